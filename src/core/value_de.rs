//! Typed values from a parsed [`serde_json::Value`], with less code than
//! `serde_json`'s own `&Value` deserializer.
//!
//! `serde_json` lets a struct be written as a JSON array of its fields in order, so
//! every struct read through it carries a second, positional reader beside the one
//! by field name. Configs, facts and hand-offs are objects: here a struct is read
//! only from an object (an array is a type error, as the config checker says too),
//! which leaves the positional readers out of the browser's wasm. Everything else
//! is read as `serde_json` reads it, with its error type and messages.

use serde::de::{
    self, DeserializeSeed, Deserializer, EnumAccess, IntoDeserializer, MapAccess, SeqAccess,
    Unexpected, VariantAccess, Visitor,
};
use serde::forward_to_deserialize_any;
use serde_json::{Error, Map, Value};

/// Reads a `T` from `value`.
///
/// # Errors
/// `serde_json`'s error for the first value of the wrong type or shape, a missing
/// field or an unknown one (where `T` denies them).
pub fn from_value<'a, T: de::Deserialize<'a>>(value: &'a Value) -> Result<T, Error> {
    T::deserialize(ValueReader(value))
}

/// A deserializer over one borrowed JSON value.
struct ValueReader<'a>(&'a Value);

impl<'a> ValueReader<'a> {
    fn unexpected(&self) -> Unexpected<'a> {
        match self.0 {
            Value::Null => Unexpected::Unit,
            Value::Bool(b) => Unexpected::Bool(*b),
            Value::Number(n) => match (n.as_u64(), n.as_i64(), n.as_f64()) {
                (Some(u), _, _) => Unexpected::Unsigned(u),
                (None, Some(i), _) => Unexpected::Signed(i),
                (None, None, Some(f)) => Unexpected::Float(f),
                (None, None, None) => Unexpected::Other("number"),
            },
            Value::String(s) => Unexpected::Str(s),
            Value::Array(_) => Unexpected::Seq,
            Value::Object(_) => Unexpected::Map,
        }
    }
}

impl<'a> Deserializer<'a> for ValueReader<'a> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.0 {
            Value::Null => visitor.visit_unit(),
            Value::Bool(b) => visitor.visit_bool(*b),
            Value::Number(n) => match (n.as_u64(), n.as_i64(), n.as_f64()) {
                (Some(u), _, _) => visitor.visit_u64(u),
                (None, Some(i), _) => visitor.visit_i64(i),
                (None, None, Some(f)) => visitor.visit_f64(f),
                (None, None, None) => Err(de::Error::invalid_type(self.unexpected(), &visitor)),
            },
            Value::String(s) => visitor.visit_borrowed_str(s),
            Value::Array(items) => visitor.visit_seq(Items(items.iter())),
            Value::Object(map) => visitor.visit_map(Entries::new(map)),
        }
    }

    fn deserialize_option<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.0 {
            Value::Null => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_struct<V: Visitor<'a>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        match self.0 {
            Value::Object(map) => visitor.visit_map(Entries::new(map)),
            _ => Err(de::Error::invalid_type(self.unexpected(), &visitor)),
        }
    }

    fn deserialize_enum<V: Visitor<'a>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        match self.0 {
            Value::String(variant) => visitor.visit_enum(variant.as_str().into_deserializer()),
            Value::Object(map) => match (map.len(), map.iter().next()) {
                (1, Some((variant, value))) => visitor.visit_enum(Variant { variant, value }),
                _ => Err(de::Error::invalid_value(
                    Unexpected::Map,
                    &"map with a single key",
                )),
            },
            _ => Err(de::Error::invalid_type(self.unexpected(), &visitor)),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'a>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_ignored_any<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_unit()
    }

    forward_to_deserialize_any! {
        <W: Visitor<'a>>
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes
        byte_buf unit unit_struct seq tuple tuple_struct map identifier
    }
}

/// An array's items.
struct Items<'a>(std::slice::Iter<'a, Value>);

impl<'a> SeqAccess<'a> for Items<'a> {
    type Error = Error;

    fn next_element_seed<T: DeserializeSeed<'a>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Error> {
        self.0
            .next()
            .map(|item| seed.deserialize(ValueReader(item)))
            .transpose()
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.0.len())
    }
}

/// An object's entries.
struct Entries<'a> {
    entries: serde_json::map::Iter<'a>,
    value: Option<&'a Value>,
}

impl<'a> Entries<'a> {
    fn new(map: &'a Map<String, Value>) -> Self {
        Entries {
            entries: map.iter(),
            value: None,
        }
    }
}

impl<'a> MapAccess<'a> for Entries<'a> {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'a>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Error> {
        match self.entries.next() {
            Some((key, value)) => {
                self.value = Some(value);
                seed.deserialize(de::value::BorrowedStrDeserializer::new(key))
                    .map(Some)
            }
            None => Ok(None),
        }
    }

    fn next_value_seed<V: DeserializeSeed<'a>>(&mut self, seed: V) -> Result<V::Value, Error> {
        match self.value.take() {
            Some(value) => seed.deserialize(ValueReader(value)),
            None => Err(de::Error::custom("a value without its key")),
        }
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.entries.len())
    }
}

/// An enum variant written as `{"variant": value}`.
struct Variant<'a> {
    variant: &'a str,
    value: &'a Value,
}

impl<'a> EnumAccess<'a> for Variant<'a> {
    type Error = Error;
    type Variant = ValueReader<'a>;

    fn variant_seed<S: DeserializeSeed<'a>>(
        self,
        seed: S,
    ) -> Result<(S::Value, ValueReader<'a>), Error> {
        let variant = seed.deserialize(de::value::BorrowedStrDeserializer::new(self.variant))?;
        Ok((variant, ValueReader(self.value)))
    }
}

impl<'a> VariantAccess<'a> for ValueReader<'a> {
    type Error = Error;

    fn unit_variant(self) -> Result<(), Error> {
        match self.0 {
            Value::Null => Ok(()),
            _ => Err(de::Error::invalid_type(
                self.unexpected(),
                &"a unit variant",
            )),
        }
    }

    fn newtype_variant_seed<S: DeserializeSeed<'a>>(self, seed: S) -> Result<S::Value, Error> {
        seed.deserialize(self)
    }

    fn tuple_variant<V: Visitor<'a>>(self, _len: usize, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_any(visitor)
    }

    fn struct_variant<V: Visitor<'a>>(
        self,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_struct("", fields, visitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::config::SiteConfig;
    use crate::core::context::RequestFacts;
    use serde::Deserialize;
    use serde_json::json;

    /// Every config the project ships or tests with.
    fn configs() -> Vec<Value> {
        let mut configs = Vec::new();
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        for file in ["www/demo/config.json", "benches/bench-config.json"] {
            let text = std::fs::read_to_string(root.join(file)).unwrap();
            configs.push(serde_json::from_str(&text).unwrap());
        }
        for entry in std::fs::read_dir(root.join("tests/journeys")).unwrap() {
            let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
            let file: Value = serde_json::from_str(&text).unwrap();
            if file["config"].is_object() {
                configs.push(file["config"].clone());
            }
        }
        configs
    }

    #[test]
    fn reads_every_config_as_serde_json_does() {
        let configs = configs();
        assert!(configs.len() > 5, "{}", configs.len());
        for config in &configs {
            let ours: SiteConfig = from_value(config).unwrap();
            let theirs = SiteConfig::deserialize(config).unwrap();
            assert_eq!(format!("{ours:?}"), format!("{theirs:?}"));
        }
    }

    #[test]
    fn reads_facts_with_options_numbers_and_enums_as_serde_json_does() {
        let facts = json!({
            "url": "https://x.test/?utm_source=ya", "referrer": null, "nowMs": 1_700_000_000_000_i64,
            "utcOffsetMinutes": -180, "geo": { "country": "RU" },
            "page": { "price": 12.5, "category": "sushi" },
            "events": [{ "kind": "purchase", "value": 4200 }, { "kind": "custom", "name": "my_event" }],
            "consentWithheld": false,
        });
        let ours: RequestFacts = from_value(&facts).unwrap();
        let theirs = RequestFacts::deserialize(&facts).unwrap();
        assert_eq!(format!("{ours:?}"), format!("{theirs:?}"));
    }

    #[test]
    fn errors_are_serde_json_errors_with_its_messages() {
        for (value, expected) in [
            (json!({ "version": "1" }), "invalid type: string \"1\""),
            (
                json!({ "version": 1, "nope": true }),
                "unknown field `nope`",
            ),
            (
                json!({ "version": 1, "consent": { "mode": "sometimes" } }),
                "unknown variant `sometimes`",
            ),
            (json!({ "version": -1 }), "invalid value: integer `-1`"),
            (
                json!({ "version": 1, "consent": 5 }),
                "invalid type: integer `5`",
            ),
            (
                json!({ "version": 1, "consent": { "mode": { "a": 1, "b": 2 } } }),
                "map with a single key",
            ),
        ] {
            let error = from_value::<SiteConfig>(&value).unwrap_err().to_string();
            assert!(error.contains(expected), "{value}: {error}");
            let theirs = SiteConfig::deserialize(&value).unwrap_err().to_string();
            assert_eq!(error, theirs, "{value}");
        }
    }

    #[test]
    fn a_struct_is_read_only_from_an_object() {
        // serde_json would read the fields in order from an array.
        #[derive(Debug, Deserialize)]
        #[allow(dead_code)]
        struct Point {
            x: i32,
            y: i32,
        }
        let error = from_value::<Point>(&json!([1, 2])).unwrap_err().to_string();
        assert!(error.contains("invalid type: sequence"), "{error}");
        assert!(Point::deserialize(&json!([1, 2])).is_ok());
        assert_eq!(
            from_value::<Point>(&json!({ "x": 1, "y": 2 })).unwrap().y,
            2
        );
    }
}
