//! The `catalogue!` macro: from the list of alerts in `super`, the `AlertKind` enum, its data
//! and the `[alerts]` tables.

/// The table type of an alert: `Alert`, or its own table when it has a threshold.
macro_rules! table_type {
    () => {
        Alert
    };
    ($table:ident) => {
        $table
    };
}

/// Declares the catalogue: the kinds, their data, and the `[alerts]` tables.
macro_rules! catalogue {
    ($(
        $(#[doc = $doc:literal])*
        $kind:ident = $name:literal {
            key: $key:ident,
            source: $source:ident,
            for: $for:expr,
            severity: $severity:ident,
            $(threshold: $table:ident . $field:ident {
                doc: $tdoc:literal,
                unit: $unit:literal,
                default: $default:expr,
                above: $above:expr,
                below: $below:expr,
            },)?
        }
    )*) => {
        /// One alert of the catalogue.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum AlertKind {
            $($kind,)*
        }

        impl AlertKind {
            /// Every alert, in the order of the rules file.
            pub const ALL: &[AlertKind] = &[$(AlertKind::$kind,)*];

            /// Its name: the `alertname` label.
            pub fn name(self) -> &'static str {
                match self {
                    $(AlertKind::$kind => $name,)*
                }
            }

            /// Its table's key under `[alerts]`.
            pub fn key(self) -> &'static str {
                match self {
                    $(AlertKind::$kind => stringify!($key),)*
                }
            }

            pub fn source(self) -> Source {
                match self {
                    $(AlertKind::$kind => Source::$source,)*
                }
            }

            pub fn default_for(self) -> Duration {
                match self {
                    $(AlertKind::$kind => $for,)*
                }
            }

            pub fn default_severity(self) -> Severity {
                match self {
                    $(AlertKind::$kind => Severity::$severity,)*
                }
            }

            /// When it fires, in a line (its table's description).
            pub fn summary(self) -> &'static str {
                match self {
                    $(AlertKind::$kind => concat!($($doc),*),)*
                }
            }

            pub fn threshold(self) -> Option<Threshold> {
                match self {
                    $(AlertKind::$kind => None$(.or(Some(Threshold {
                        key: stringify!($field),
                        unit: $unit,
                        default: $default,
                        above: $above,
                        below: $below,
                    })))?,)*
                }
            }
        }

        $($(
            crate::model::combine::table! {
                #[doc = concat!($name, ".")]
                pub struct $table {
                    /// Evaluate this alert.
                    enabled: bool,
                    /// How long the condition must hold before the alert fires.
                    r#for: Duration,
                    /// The `severity` label, which routes the notification.
                    severity: Severity,
                    #[doc = $tdoc]
                    $field: f64,
                }
            }

            impl From<Option<$table>> for AlertParts {
                fn from(table: Option<$table>) -> Self {
                    let table = table.unwrap_or_default();
                    Self {
                        enabled: table.enabled,
                        r#for: table.r#for,
                        severity: table.severity,
                        threshold: table.$field,
                    }
                }
            }
        )?)*

        crate::model::combine::table! {
            /// The alert catalogue.
            pub struct AlertsTable {
                #[doc = "Base URL of the runbooks; each alert links to \
                         `<base>#<alertname in lower case>`."]
                runbook_base_url: String,
                $(
                    $(#[doc = $doc])*
                    $key: table_type!($($table)?),
                )*
            }
        }

        impl AlertsTable {
            /// The settings `stack.toml` gives an alert.
            pub(crate) fn parts(&self, kind: AlertKind) -> AlertParts {
                match kind {
                    $(AlertKind::$kind => self.$key.clone().into(),)*
                }
            }
        }
    };
}
