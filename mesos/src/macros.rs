//! `wire_enum!`: enums that travel as Mesos's upper-case names.

/// Defines a fieldless enum whose serde, `Display` and `FromStr` forms are
/// Mesos's names (e.g. `TASK_RUNNING`), with optional accepted aliases (e.g.
/// the v0 `REASON_SLAVE_REMOVED` for `REASON_AGENT_REMOVED`). Both JSON and
/// binary formats carry the name, so adding variants never shifts indices.
macro_rules! wire_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $(
                $(#[$vmeta:meta])*
                $variant:ident = $wire:literal $(| $alias:literal)*
            ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
        pub enum $name {
            $(
                $(#[$vmeta])*
                $variant,
            )+
        }

        impl $name {
            /// Every variant, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// Mesos's name for this value.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $wire,)+
                }
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = $crate::UnknownName;
            fn from_str(s: &str) -> Result<$name, $crate::UnknownName> {
                match s {
                    $($wire $(| $alias)* => Ok($name::$variant),)+
                    _ => Err($crate::UnknownName { kind: stringify!($name), name: s.to_string() }),
                }
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> Result<$name, D::Error> {
                let s = <::std::borrow::Cow<'de, str> as ::serde::Deserialize>::deserialize(d)?;
                s.parse().map_err(::serde::de::Error::custom)
            }
        }
    };
}

/// A name that is not one of an enum's Mesos names (e.g. `TASK_RUNNIN`).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown {kind} '{name}'")]
pub struct UnknownName {
    /// The enum type.
    pub kind: &'static str,
    /// The offending name.
    pub name: String,
}
