//! A stable sort for the engine's short lists: rules by priority, interests,
//! languages, popup histories. An insertion sort is a few dozen bytes of wasm for
//! each list type; the standard library's stable sort (driftsort) is kilobytes for
//! each, and the browser build downloads every one of them. These lists are short
//! (capped, or as long as the config's rule list), so the quadratic worst case
//! never shows.

/// Sorts `items` in place so that no item comes after one it is `is_less` than;
/// items that compare equal keep their order (stable).
pub fn stable_sort_by<T>(items: &mut [T], mut is_less: impl FnMut(&T, &T) -> bool) {
    for end in 1..items.len() {
        let mut at = end;
        while at > 0 && is_less(&items[at], &items[at - 1]) {
            items.swap(at, at - 1);
            at -= 1;
        }
    }
}

/// `items` sorted, without duplicates: what collecting into a `BTreeSet` gives,
/// without one more set type (and its sort) in the wasm.
pub fn sorted_unique<T: Ord>(mut items: Vec<T>) -> Vec<T> {
    stable_sort_by(&mut items, |a, b| a < b);
    items.dedup();
    items
}

/// A map of `pairs`, inserted one by one: a later key replaces an earlier one, as
/// with `collect`. `collect` into a `BTreeMap` (and serde_json's `Map`, which is one)
/// first sorts the pairs with the standard stable sort, once more for every pair type.
pub fn map_of<M: Default + Extend<(K, V)>, K, V>(pairs: impl IntoIterator<Item = (K, V)>) -> M {
    let mut map = M::default();
    map.extend(pairs);
    map
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn sorted_unique_is_what_a_btree_set_holds(items in prop::collection::vec(0u8..20, 0..60)) {
            let set: std::collections::BTreeSet<u8> = items.iter().copied().collect();
            prop_assert_eq!(sorted_unique(items), set.into_iter().collect::<Vec<_>>());
        }

        #[test]
        fn sorts_as_the_standard_stable_sort_does(items in prop::collection::vec((0u8..5, any::<u16>()), 0..60)) {
            let mut ours = items.clone();
            stable_sort_by(&mut ours, |a, b| a.0 > b.0);
            let mut standard = items;
            standard.sort_by_key(|b| std::cmp::Reverse(b.0));
            prop_assert_eq!(ours, standard);
        }

        #[test]
        fn maps_as_collect_does(pairs in prop::collection::vec((0u8..8, any::<u16>()), 0..40)) {
            let ours: std::collections::BTreeMap<u8, u16> = map_of(pairs.clone());
            let collected: std::collections::BTreeMap<u8, u16> = pairs.into_iter().collect();
            prop_assert_eq!(ours, collected);
        }
    }
}
