//! How a profile overlay merges into `stack.toml`: the `Combine` trait (the overlay wins,
//! table by table) and the `table!` macro that declares a table of optional keys with its
//! serde, schema and merge in one place. The alert catalogue declares its tables with it too,
//! so this module depends on nothing but the units.

use std::collections::BTreeMap;

use super::units::{Cpus, Duration, Secret, Size};

/// Merges a profile overlay into a base value: the overlay wins, table by table.
pub(crate) trait Combine {
    fn combine(self, overlay: Self) -> Self;
}

impl<T: Combine> Combine for Option<T> {
    fn combine(self, overlay: Self) -> Self {
        match (self, overlay) {
            (Some(base), Some(overlay)) => Some(base.combine(overlay)),
            (base, overlay) => overlay.or(base),
        }
    }
}

macro_rules! leaf_combine {
    ($($ty:ty),*) => {$(
        impl $crate::model::combine::Combine for $ty {
            fn combine(self, overlay: Self) -> Self {
                overlay
            }
        }
    )*};
}

/// A list in a profile replaces the list of `stack.toml` as a whole, as in Helm's values.
impl<T> Combine for Vec<T> {
    fn combine(self, overlay: Self) -> Self {
        overlay
    }
}

/// Declares a table: every field optional, unknown keys rejected, merged field by field.
macro_rules! table {
    (
        $(#[$meta:meta])*
        pub struct $name:ident { $($(#[$fmeta:meta])* $field:ident : $ty:ty,)* }
    ) => {
        $(#[$meta])*
        #[derive(
            Debug,
            Clone,
            Default,
            PartialEq,
            ::serde::Deserialize,
            ::serde::Serialize,
            ::schemars::JsonSchema,
        )]
        #[serde(deny_unknown_fields)]
        pub(crate) struct $name {
            $(
                $(#[$fmeta])*
                #[serde(default, skip_serializing_if = "Option::is_none")]
                pub(crate) $field: Option<$ty>,
            )*
        }

        impl $crate::model::combine::Combine for $name {
            fn combine(self, overlay: Self) -> Self {
                Self {
                    $($field: $crate::model::combine::Combine::combine(
                        self.$field,
                        overlay.$field,
                    ),)*
                }
            }
        }
    };
}

pub(crate) use table;

pub(crate) use leaf_combine;

leaf_combine!(BTreeMap<String, String>, String, u16, f64, bool, Size, Cpus, Duration, Secret);
