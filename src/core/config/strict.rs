//! A serde deserializer over a parsed JSON value that keeps going after an error.
//!
//! `serde_json` stops at the first problem, and a marketer fixing a config one error
//! per run is slow. This deserializer walks the [`serde_json::Value`] itself, records
//! every problem it can recover from with its JSON path (`experiences[2].priority:
//! expected a whole number, found a string "high"`), substitutes a neutral value and
//! carries on:
//!
//! - a value of the wrong type is recorded and replaced by zero / `false` / `""` /
//!   an empty array or object;
//! - an unknown field is recorded (with the fields that are allowed) and skipped;
//! - an unknown enum variant is recorded (with the variants that are allowed).
//!
//! What it cannot recover from is an error raised by the derived code itself (a
//! missing required field): that error is recorded at the object where it happened
//! and ends the walk, so the report still holds everything found before it.

use serde::de::{self, value::BorrowedStrDeserializer, DeserializeOwned, DeserializeSeed, Visitor};
use serde_json::{Map, Number, Value};
use std::cell::RefCell;
use std::fmt;

/// One problem in a config, with the JSON path where it is.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ConfigError {
    /// JSON path from the config root, e.g. `experiences[2].when.$gte`; empty for the root.
    pub path: String,
    /// What is wrong, and what was expected there.
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            write!(f, "(root): {}", self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

/// Deserializes `value` into `T`, collecting every problem found on the way.
///
/// Returns the value only when there were no problems at all.
///
/// # Errors
/// Every problem found, each with its JSON path, in document order.
pub fn from_value<T: DeserializeOwned>(value: &Value) -> Result<T, Vec<ConfigError>> {
    match from_value_lenient(value) {
        (Some(parsed), errors) if errors.is_empty() => Ok(parsed),
        (_, errors) => Err(errors),
    }
}

/// Like [`from_value`], but also returns the value built with neutral substitutes
/// when only recoverable problems were found, so later checks can still run on it.
#[cfg_attr(not(feature = "all-errors"), allow(dead_code))]
pub fn from_value_lenient<T: DeserializeOwned>(value: &Value) -> (Option<T>, Vec<ConfigError>) {
    // A missing required field is raised by serde's derived code and ends a walk. To
    // still report everything, the field is then added as `null` to a copy of the
    // document (its type error at that path is suppressed: "missing" says it) and
    // the walk runs again. Each round adds one field, so this ends.
    let mut patched: Option<Value> = None;
    let mut missing: Vec<ConfigError> = Vec::new();
    loop {
        let document = patched.as_ref().unwrap_or(value);
        let (result, errors) = walk::<T>(document);
        let mut errors: Vec<ConfigError> = errors
            .into_iter()
            .filter(|e| !missing.iter().any(|m| m.path == e.path))
            .collect();
        match result {
            Ok(parsed) => {
                errors.extend(missing);
                return (Some(parsed), errors);
            }
            Err(fatal) => {
                let field = fatal
                    .message
                    .strip_prefix("missing field `")
                    .and_then(|rest| rest.strip_suffix('`'))
                    .map(str::to_string);
                match (field, fatal.location) {
                    (Some(field), Some(location)) if missing.len() < 64 => {
                        let mut copy = patched.take().unwrap_or_else(|| value.clone());
                        if let Some(Value::Object(object)) = pointer_mut(&mut copy, &location) {
                            object.insert(field.clone(), Value::Null);
                        }
                        let at = render_segments(&location, &field);
                        errors.retain(|e| e.message != fatal.message);
                        missing.push(ConfigError {
                            path: at,
                            message: "missing required field".into(),
                        });
                        patched = Some(copy);
                    }
                    _ => {
                        if !fatal.recorded {
                            errors.push(ConfigError {
                                path: String::new(),
                                message: fatal.message,
                            });
                        }
                        errors.extend(missing);
                        return (None, errors);
                    }
                }
            }
        }
    }
}

fn walk<T: DeserializeOwned>(value: &Value) -> (Result<T, Fatal>, Vec<ConfigError>) {
    let errors = RefCell::new(Vec::new());
    let root = Path::Root;
    let result = T::deserialize(StrictDeserializer {
        value,
        path: &root,
        errors: &errors,
    });
    (result, errors.into_inner())
}

/// One step of a path, owned (for patching the document).
#[derive(Debug, Clone)]
enum Segment {
    Key(String),
    Index(usize),
}

fn pointer_mut<'v>(value: &'v mut Value, location: &[Segment]) -> Option<&'v mut Value> {
    let mut current = value;
    for segment in location {
        current = match (segment, current) {
            (Segment::Key(key), Value::Object(map)) => map.get_mut(key)?,
            (Segment::Index(i), Value::Array(items)) => items.get_mut(*i)?,
            _ => return None,
        };
    }
    Some(current)
}

fn render_segments(location: &[Segment], field: &str) -> String {
    fn build<'a>(location: &'a [Segment], parent: &Path<'a>, field: &str) -> String {
        match location.split_first() {
            None => Path::Key(field, parent).render(),
            Some((Segment::Key(key), rest)) => build(rest, &Path::Key(key, parent), field),
            Some((Segment::Index(i), rest)) => build(rest, &Path::Index(*i, parent), field),
        }
    }
    build(location, &Path::Root, field)
}

/// Where a value sits in the document; rendered only when an error is recorded.
#[derive(Clone, Copy)]
pub(crate) enum Path<'a> {
    Root,
    Key(&'a str, &'a Path<'a>),
    Index(usize, &'a Path<'a>),
}

impl Path<'_> {
    fn segments(&self) -> Vec<Segment> {
        let mut out = Vec::new();
        let mut current = self;
        loop {
            match current {
                Path::Root => break,
                Path::Key(key, parent) => {
                    out.push(Segment::Key((*key).to_string()));
                    current = parent;
                }
                Path::Index(i, parent) => {
                    out.push(Segment::Index(*i));
                    current = parent;
                }
            }
        }
        out.reverse();
        out
    }

    pub(crate) fn render(&self) -> String {
        let mut out = String::new();
        self.render_into(&mut out);
        out
    }

    fn render_into(&self, out: &mut String) {
        match self {
            Path::Root => {}
            Path::Key(key, parent) => {
                parent.render_into(out);
                let plain = !key.is_empty()
                    && key
                        .chars()
                        .all(|c| c.is_alphanumeric() || c == '_' || c == '$' || c == '-');
                if plain {
                    if !out.is_empty() {
                        out.push('.');
                    }
                    out.push_str(key);
                } else {
                    out.push('[');
                    out.push_str(&Value::String((*key).to_string()).to_string());
                    out.push(']');
                }
            }
            Path::Index(index, parent) => {
                parent.render_into(out);
                out.push_str(&format!("[{index}]"));
            }
        }
    }
}

/// The error type serde's derived code sees. `recorded` marks that it already has
/// its place in the error list, so outer containers do not record it again.
#[derive(Debug)]
pub struct Fatal {
    message: String,
    recorded: bool,
    /// Where it was recorded, for patching a missing field in.
    location: Option<Vec<Segment>>,
}

impl fmt::Display for Fatal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Fatal {}

impl de::Error for Fatal {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Fatal {
            message: msg.to_string(),
            recorded: false,
            location: None,
        }
    }
}

struct StrictDeserializer<'de, 'p> {
    value: &'de Value,
    path: &'p Path<'p>,
    errors: &'p RefCell<Vec<ConfigError>>,
}

/// A short description of a JSON value for error messages.
pub(crate) fn describe(value: &Value) -> String {
    match value {
        Value::Null => "null".into(),
        Value::Bool(b) => format!("{b}"),
        Value::Number(n) => format!("the number {n}"),
        Value::String(s) => {
            let preview: String = s.chars().take(40).collect();
            let ellipsis = if preview.len() < s.len() { "…" } else { "" };
            format!("the string {:?}{ellipsis}", preview)
        }
        Value::Array(_) => "an array".into(),
        Value::Object(_) => "an object".into(),
    }
}

impl<'de, 'p> StrictDeserializer<'de, 'p> {
    fn record(&self, message: String) {
        self.errors.borrow_mut().push(ConfigError {
            path: self.path.render(),
            message,
        });
    }

    fn mismatch(&self, expected: &str) {
        self.record(format!(
            "expected {expected}, found {}",
            describe(self.value)
        ));
    }

    /// Gives an error raised inside a container its path, once.
    fn locate(&self, mut fatal: Fatal) -> Fatal {
        if !fatal.recorded {
            self.record(fatal.message.clone());
            fatal.recorded = true;
            fatal.location = Some(self.path.segments());
        }
        fatal
    }

    fn integer<V: Visitor<'de>>(self, visitor: V, min: i128, max: i128) -> Result<V::Value, Fatal> {
        let in_range = match self.value {
            Value::Number(n) => n
                .as_i64()
                .map(i128::from)
                .or_else(|| n.as_u64().map(i128::from))
                .filter(|v| (min..=max).contains(v)),
            _ => None,
        };
        match in_range {
            Some(v) if v < 0 => visitor.visit_i64(v as i64),
            Some(v) => visitor.visit_u64(v as u64),
            None => {
                let expected = if min == 0 {
                    format!("a whole number from 0 to {max}")
                } else {
                    format!("a whole number from {min} to {max}")
                };
                self.mismatch(&expected);
                visitor.visit_u64(0)
            }
        }
    }
}

macro_rules! integer_methods {
    ($($method:ident: $ty:ty),*) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Fatal> {
            self.integer(visitor, i128::from(<$ty>::MIN), i128::from(<$ty>::MAX))
        }
    )*};
}

impl<'de> de::Deserializer<'de> for StrictDeserializer<'de, '_> {
    type Error = Fatal;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Fatal> {
        match self.value {
            Value::Null => visitor.visit_unit(),
            Value::Bool(b) => visitor.visit_bool(*b),
            Value::Number(n) => visit_number(n, visitor),
            Value::String(s) => visitor.visit_borrowed_str(s),
            Value::Array(items) => {
                let path = self.path;
                visitor
                    .visit_seq(StrictSeq::new(items, path, self.errors))
                    .map_err(|e| self.locate(e))
            }
            Value::Object(map) => visitor
                .visit_map(StrictMap::new(map, self.path, self.errors, None))
                .map_err(|e| self.locate(e)),
        }
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Fatal> {
        match self.value {
            Value::Bool(b) => visitor.visit_bool(*b),
            _ => {
                self.mismatch("true or false");
                visitor.visit_bool(false)
            }
        }
    }

    integer_methods!(
        deserialize_i8: i8, deserialize_i16: i16, deserialize_i32: i32, deserialize_i64: i64,
        deserialize_u8: u8, deserialize_u16: u16, deserialize_u32: u32, deserialize_u64: u64
    );

    fn deserialize_f32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Fatal> {
        self.deserialize_f64(visitor)
    }

    fn deserialize_f64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Fatal> {
        match self.value.as_f64() {
            Some(v) if self.value.is_number() => visitor.visit_f64(v),
            _ => {
                self.mismatch("a number");
                visitor.visit_f64(0.0)
            }
        }
    }

    fn deserialize_char<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Fatal> {
        self.deserialize_str(visitor)
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Fatal> {
        match self.value {
            Value::String(s) => visitor.visit_borrowed_str(s),
            _ => {
                self.mismatch("a string");
                visitor.visit_borrowed_str("")
            }
        }
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Fatal> {
        self.deserialize_str(visitor)
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Fatal> {
        self.deserialize_str(visitor)
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Fatal> {
        self.deserialize_str(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Fatal> {
        match self.value {
            Value::Null => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Fatal> {
        if !self.value.is_null() {
            self.mismatch("null");
        }
        visitor.visit_unit()
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Fatal> {
        self.deserialize_unit(visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Fatal> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Fatal> {
        let items: &[Value] = match self.value {
            Value::Array(items) => items,
            _ => {
                self.mismatch("an array");
                &[]
            }
        };
        visitor
            .visit_seq(StrictSeq::new(items, self.path, self.errors))
            .map_err(|e| self.locate(e))
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, Fatal> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, Fatal> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Fatal> {
        self.object(visitor, None)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Fatal> {
        self.object(visitor, Some(fields))
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Fatal> {
        let (variant, content) = match self.value {
            Value::String(s) => (s.as_str(), None),
            Value::Object(map) if map.len() == 1 => match map.iter().next() {
                Some((k, v)) => (k.as_str(), Some(v)),
                None => ("", None),
            },
            _ => ("", None),
        };
        let variant = if variants.contains(&variant) {
            variant
        } else {
            self.mismatch(&format!("one of {}", quoted_list(variants)));
            variants.first().copied().unwrap_or("")
        };
        let access = StrictEnum {
            variant,
            content,
            path: self.path,
            errors: self.errors,
        };
        visitor.visit_enum(access).map_err(|e| self.locate(e))
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Fatal> {
        self.deserialize_str(visitor)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Fatal> {
        visitor.visit_unit()
    }
}

impl<'de> StrictDeserializer<'de, '_> {
    fn object<V: Visitor<'de>>(
        self,
        visitor: V,
        fields: Option<&'static [&'static str]>,
    ) -> Result<V::Value, Fatal> {
        static EMPTY: std::sync::OnceLock<Map<String, Value>> = std::sync::OnceLock::new();
        let map = match self.value {
            Value::Object(map) => map,
            _ => {
                self.mismatch("an object");
                EMPTY.get_or_init(Map::new)
            }
        };
        visitor
            .visit_map(StrictMap::new(map, self.path, self.errors, fields))
            .map_err(|e| self.locate(e))
    }
}

fn visit_number<'de, V: Visitor<'de>>(n: &Number, visitor: V) -> Result<V::Value, Fatal> {
    if let Some(u) = n.as_u64() {
        visitor.visit_u64(u)
    } else if let Some(i) = n.as_i64() {
        visitor.visit_i64(i)
    } else {
        visitor.visit_f64(n.as_f64().unwrap_or(0.0))
    }
}

fn quoted_list(names: &[&str]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

struct StrictSeq<'de, 'p> {
    items: std::iter::Enumerate<std::slice::Iter<'de, Value>>,
    path: &'p Path<'p>,
    errors: &'p RefCell<Vec<ConfigError>>,
}

impl<'de, 'p> StrictSeq<'de, 'p> {
    fn new(items: &'de [Value], path: &'p Path<'p>, errors: &'p RefCell<Vec<ConfigError>>) -> Self {
        StrictSeq {
            items: items.iter().enumerate(),
            path,
            errors,
        }
    }
}

impl<'de> de::SeqAccess<'de> for StrictSeq<'de, '_> {
    type Error = Fatal;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Fatal> {
        match self.items.next() {
            None => Ok(None),
            Some((index, value)) => {
                let path = Path::Index(index, self.path);
                seed.deserialize(StrictDeserializer {
                    value,
                    path: &path,
                    errors: self.errors,
                })
                .map(Some)
            }
        }
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.items.len())
    }
}

struct StrictMap<'de, 'p> {
    entries: serde_json::map::Iter<'de>,
    pending: Option<(&'de str, &'de Value)>,
    path: &'p Path<'p>,
    errors: &'p RefCell<Vec<ConfigError>>,
    fields: Option<&'static [&'static str]>,
}

impl<'de, 'p> StrictMap<'de, 'p> {
    fn new(
        map: &'de Map<String, Value>,
        path: &'p Path<'p>,
        errors: &'p RefCell<Vec<ConfigError>>,
        fields: Option<&'static [&'static str]>,
    ) -> Self {
        StrictMap {
            entries: map.iter(),
            pending: None,
            path,
            errors,
            fields,
        }
    }
}

impl<'de> de::MapAccess<'de> for StrictMap<'de, '_> {
    type Error = Fatal;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Fatal> {
        for (key, value) in self.entries.by_ref() {
            if let Some(fields) = self.fields {
                if !fields.contains(&key.as_str()) {
                    let path = Path::Key(key, self.path);
                    let allowed = if fields.is_empty() {
                        "no fields are allowed here".to_string()
                    } else {
                        format!("expected one of {}", quoted_list(fields))
                    };
                    self.errors.borrow_mut().push(ConfigError {
                        path: path.render(),
                        message: format!("unknown field; {allowed}"),
                    });
                    continue;
                }
            }
            self.pending = Some((key.as_str(), value));
            let key_deserializer: BorrowedStrDeserializer<'de, Fatal> =
                BorrowedStrDeserializer::new(key.as_str());
            return seed.deserialize(key_deserializer).map(Some);
        }
        Ok(None)
    }

    fn next_value_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<T::Value, Fatal> {
        let (key, value) = self.pending.take().unwrap_or(("", &Value::Null));
        let path = Path::Key(key, self.path);
        seed.deserialize(StrictDeserializer {
            value,
            path: &path,
            errors: self.errors,
        })
    }
}

struct StrictEnum<'de, 'p> {
    variant: &'de str,
    content: Option<&'de Value>,
    path: &'p Path<'p>,
    errors: &'p RefCell<Vec<ConfigError>>,
}

impl<'de, 'p> de::EnumAccess<'de> for StrictEnum<'de, 'p> {
    type Error = Fatal;
    type Variant = Self;

    fn variant_seed<V: DeserializeSeed<'de>>(self, seed: V) -> Result<(V::Value, Self), Fatal> {
        let name: BorrowedStrDeserializer<'de, Fatal> = BorrowedStrDeserializer::new(self.variant);
        let value = seed.deserialize(name)?;
        Ok((value, self))
    }
}

impl<'de> de::VariantAccess<'de> for StrictEnum<'de, '_> {
    type Error = Fatal;

    fn unit_variant(self) -> Result<(), Fatal> {
        Ok(())
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value, Fatal> {
        let path = Path::Key(self.variant, self.path);
        seed.deserialize(StrictDeserializer {
            value: self.content.unwrap_or(&Value::Null),
            path: &path,
            errors: self.errors,
        })
    }

    fn tuple_variant<V: Visitor<'de>>(self, _len: usize, visitor: V) -> Result<V::Value, Fatal> {
        let path = Path::Key(self.variant, self.path);
        de::Deserializer::deserialize_seq(
            StrictDeserializer {
                value: self.content.unwrap_or(&Value::Null),
                path: &path,
                errors: self.errors,
            },
            visitor,
        )
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Fatal> {
        let path = Path::Key(self.variant, self.path);
        de::Deserializer::deserialize_struct(
            StrictDeserializer {
                value: self.content.unwrap_or(&Value::Null),
                path: &path,
                errors: self.errors,
            },
            "",
            fields,
            visitor,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;
    use serde_json::json;

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(rename_all = "camelCase")]
    struct Inner {
        #[serde(default)]
        priority: u32,
        #[serde(default)]
        kind: Option<Kind>,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(rename_all = "snake_case")]
    enum Kind {
        Text,
        Html,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    struct Outer {
        #[serde(default)]
        items: Vec<Inner>,
        #[serde(default)]
        enabled: bool,
        #[serde(default)]
        ratio: f64,
        name: String,
    }

    #[test]
    fn reports_every_problem_with_its_path() {
        let doc = json!({
            "items": [{"priority": 1}, {"priority": "high", "colour": 1}, {"kind": "svg"}],
            "enabled": "yes",
            "ratio": [],
            "name": "x",
            "extra": true
        });
        let errors = from_value::<Outer>(&doc).unwrap_err();
        let rendered: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
        assert_eq!(
            rendered,
            vec![
                "enabled: expected true or false, found the string \"yes\"",
                "extra: unknown field; expected one of `items`, `enabled`, `ratio`, `name`",
                // Keys come in serde_json's (sorted) order.
                "items[1].colour: unknown field; expected one of `priority`, `kind`",
                "items[1].priority: expected a whole number from 0 to 4294967295, found the string \"high\"",
                "items[2].kind: expected one of `text`, `html`, found the string \"svg\"",
                "ratio: expected a number, found an array",
            ]
        );
    }

    #[test]
    fn a_missing_required_field_is_reported_where_it_is_missing() {
        let doc = json!({"items": [{"priority": -1}]});
        let errors = from_value::<Outer>(&doc).unwrap_err();
        let rendered: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
        assert_eq!(
            rendered,
            vec![
                "items[0].priority: expected a whole number from 0 to 4294967295, found the number -1",
                "name: missing required field",
            ]
        );
    }

    #[derive(Debug, Deserialize)]
    struct Rule {
        id: String,
        #[allow(dead_code)]
        slot: String,
    }

    #[derive(Debug, Deserialize)]
    struct Rules {
        #[allow(dead_code)]
        rules: Vec<Rule>,
        #[serde(default)]
        #[allow(dead_code)]
        zeta: u8,
    }

    #[test]
    fn missing_fields_do_not_stop_the_walk() {
        let doc =
            json!({"rules": [{"id": "a"}, {"slot": "s"}, {"id": 5, "slot": "t"}], "zeta": "x"});
        let errors = from_value::<Rules>(&doc).unwrap_err();
        let rendered: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
        assert_eq!(
            rendered,
            vec![
                "rules[2].id: expected a string, found the number 5",
                "zeta: expected a whole number from 0 to 255, found the string \"x\"",
                "rules[0].slot: missing required field",
                "rules[1].id: missing required field",
            ]
        );
        let ok = from_value::<Rules>(&json!({"rules": [{"id": "a", "slot": "b"}]})).unwrap();
        assert_eq!(ok.rules[0].id, "a");
    }

    #[test]
    fn valid_documents_parse() {
        let doc = json!({"items": [{"priority": 3, "kind": "html"}], "name": "ok", "ratio": 0.5});
        let parsed = from_value::<Outer>(&doc).unwrap();
        assert_eq!(parsed.items[0].kind, Some(Kind::Html));
        assert_eq!(parsed.ratio, 0.5);
    }

    #[test]
    fn odd_keys_are_quoted_in_paths() {
        let root = Path::Root;
        let seg = Path::Key("my segment", &root);
        let op = Path::Key("$gte", &seg);
        assert_eq!(op.render(), "[\"my segment\"].$gte");
    }
}
