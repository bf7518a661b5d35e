//! Dense integer ids for the elements of a network. An id is an index into the scenario's
//! table of that element, so lookups are array accesses and ids of different kinds cannot be
//! mixed up. The names people write (`beijing`) live in the elements themselves.

use std::fmt;

macro_rules! id {
    ($(#[$doc:meta])* $ty:ident, $prefix:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
        #[serde(transparent)]
        pub struct $ty(pub u32);

        impl $ty {
            /// The position of this element in its table.
            pub const fn index(self) -> usize {
                self.0 as usize
            }

            /// The id of the element at `index`; tables never hold more than `u32::MAX`
            /// elements (the scenario parser refuses larger ones).
            pub(crate) fn at(index: usize) -> $ty {
                $ty(u32::try_from(index).unwrap_or(u32::MAX))
            }
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!($prefix, "{}"), self.0)
            }
        }
    };
}

id!(/// A router of the network.
    RouterId, "r");
id!(/// A link between two routers.
    LinkId, "l");
id!(/// A compute site (a cloud data centre, an edge site or a pool of end devices).
    SiteId, "s");
id!(/// A service, the CATS service id that requests name.
    ServiceId, "svc");
id!(/// A service level agreement.
    SlaId, "sla");
id!(/// A network slice.
    SliceId, "slice");
id!(/// A tenant, owner of slices.
    TenantId, "t");
