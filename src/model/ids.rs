//! Typed indices, so that a norm's index and an event's never mix, and the
//! tables they index. A table hands out its ids as things are pushed to it;
//! reading by id gives `None` rather than a panic for an id it never gave.

use std::fmt;
use std::marker::PhantomData;

use serde::{Deserialize, Serialize};

/// An index into one kind of table.
pub trait Id: Copy + Eq + Ord + fmt::Debug {
    fn from_index(index: usize) -> Self;
    fn index(self) -> usize;
}

macro_rules! ids {
    ($($(#[$doc:meta])* $name:ident;)*) => {$(
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(u32);

        impl Id for $name {
            fn from_index(index: usize) -> Self {
                // Contracts are bounded in size (`syntax::limits`): no table
                // comes near four billion entries.
                $name(u32::try_from(index).unwrap_or(u32::MAX))
            }

            fn index(self) -> usize {
                self.0 as usize
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}#{}", stringify!($name), self.0)
            }
        }
    )*};
}

ids! {
    /// One of the deal's parties.
    PartyId;
    /// An event kind (declared, or the derived `breach of` a clause).
    EventId;
    /// A field of one event kind.
    FieldId;
    /// A term (a named value or table).
    TermId;
    ClauseId;
    /// A core norm.
    NormId;
    /// A running count or sum over events.
    TrackerId;
}

/// A vector indexed by one kind of id.
#[derive(Clone, PartialEq, Eq)]
pub struct Table<I, T> {
    items: Vec<T>,
    id: PhantomData<fn(I)>,
}

impl<I, T> Default for Table<I, T> {
    fn default() -> Self {
        Table {
            items: Vec::new(),
            id: PhantomData,
        }
    }
}

impl<I: Id, T: fmt::Debug> fmt::Debug for Table<I, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl<I: Id, T> Table<I, T> {
    pub fn new() -> Self {
        Table::default()
    }

    /// Adds an item and returns its id.
    pub fn push(&mut self, item: T) -> I {
        self.items.push(item);
        I::from_index(self.items.len() - 1)
    }

    pub fn get(&self, id: I) -> Option<&T> {
        self.items.get(id.index())
    }

    /// By position, for what carries positions rather than ids: the
    /// history stream read back, a page drawn from it.
    pub fn at(&self, index: usize) -> Option<&T> {
        self.items.get(index)
    }

    pub fn get_mut(&mut self, id: I) -> Option<&mut T> {
        self.items.get_mut(id.index())
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The id the next push will get.
    pub fn next_id(&self) -> I {
        I::from_index(self.items.len())
    }

    pub fn iter(&self) -> impl DoubleEndedIterator<Item = (I, &T)> + ExactSizeIterator {
        self.items.iter().enumerate().map(|(i, t)| (I::from_index(i), t))
    }

    pub fn iter_mut(&mut self) -> impl Iterator<Item = (I, &mut T)> {
        self.items
            .iter_mut()
            .enumerate()
            .map(|(i, t)| (I::from_index(i), t))
    }

    pub fn ids(&self) -> impl DoubleEndedIterator<Item = I> + ExactSizeIterator {
        (0..self.items.len()).map(I::from_index)
    }

    pub fn values(&self) -> std::slice::Iter<'_, T> {
        self.items.iter()
    }

    /// The ids from `from` on: what was pushed since it was the next id.
    pub fn ids_from(&self, from: I) -> impl Iterator<Item = I> {
        (from.index()..self.items.len()).map(I::from_index)
    }
}

impl<I: Id, T: Clone> Table<I, T> {
    /// A table of `len` copies of `item`.
    pub fn filled(item: T, len: usize) -> Self {
        Table {
            items: vec![item; len],
            id: PhantomData,
        }
    }
}

/// A table is saved as the list of its items, in id order.
impl<I, T: Serialize> Serialize for Table<I, T> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.items.serialize(s)
    }
}

impl<'de, I, T: Deserialize<'de>> Deserialize<'de> for Table<I, T> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Table {
            items: Vec::deserialize(d)?,
            id: PhantomData,
        })
    }
}

impl<I: Id, T> FromIterator<T> for Table<I, T> {
    fn from_iter<It: IntoIterator<Item = T>>(iter: It) -> Self {
        Table {
            items: iter.into_iter().collect(),
            id: PhantomData,
        }
    }
}

impl<'a, I: Id, T> IntoIterator for &'a Table<I, T> {
    type Item = &'a T;
    type IntoIter = std::slice::Iter<'a, T>;

    fn into_iter(self) -> Self::IntoIter {
        self.items.iter()
    }
}

/// Reading a plain slice by id, for the per-kind vectors the engine keeps
/// beside the program's tables (values of one event, trackers' values).
pub trait ById<T> {
    fn by_id<I: Id>(&self, id: I) -> Option<&T>;
    fn by_id_mut<I: Id>(&mut self, id: I) -> Option<&mut T>;
}

impl<T> ById<T> for [T] {
    #[inline]
    fn by_id<I: Id>(&self, id: I) -> Option<&T> {
        self.get(id.index())
    }

    #[inline]
    fn by_id_mut<I: Id>(&mut self, id: I) -> Option<&mut T> {
        self.get_mut(id.index())
    }
}
