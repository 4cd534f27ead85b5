//! The DHCP server's lease table: one entry per pool address, allocated
//! whole when the server starts.
//!
//! Entries outlive their leases (a returning phone gets its old address
//! back), so a table that grew with use would climb to the pool's size over
//! the first few hundred joins and never come back down, which a soak reads
//! as a leak. Allocating every entry up front makes the table's memory a
//! fixed cost of boot: the same after one phone as after thousands.

#![deny(unsafe_code)]

use alloc::vec::Vec;

use super::Binding;

/// Bindings of the pool `first..first + len`, by address.
pub(super) struct LeaseTable {
    first: u32,
    entries: Vec<Option<Binding>>,
}

impl LeaseTable {
    /// An empty table for the `len` addresses from `first`.
    pub(super) fn new(first: u32, len: usize) -> Self {
        Self { first, entries: alloc::vec![None; len] }
    }

    fn index(&self, addr: u32) -> Option<usize> {
        let index = usize::try_from(addr.checked_sub(self.first)?).ok()?;
        (index < self.entries.len()).then_some(index)
    }

    /// The binding of `addr`, if it was ever handed out.
    pub(super) fn get(&self, addr: u32) -> Option<&Binding> {
        self.entries.get(self.index(addr)?)?.as_ref()
    }

    /// The binding of `addr` to change, if it was ever handed out.
    pub(super) fn get_mut(&mut self, addr: u32) -> Option<&mut Binding> {
        let index = self.index(addr)?;
        self.entries.get_mut(index)?.as_mut()
    }

    /// The binding of `addr`, made `fresh` if it had none; `None` for an
    /// address outside the pool.
    pub(super) fn get_or_insert(&mut self, addr: u32, fresh: Binding) -> Option<&mut Binding> {
        let index = self.index(addr)?;
        Some(self.entries.get_mut(index)?.get_or_insert(fresh))
    }

    /// Every address ever handed out, in address order, with its binding.
    pub(super) fn iter(&self) -> impl Iterator<Item = (u32, &Binding)> + '_ {
        self.entries.iter().zip(self.first..).filter_map(|(entry, addr)| Some((addr, entry.as_ref()?)))
    }

    /// Every binding, to change.
    pub(super) fn bindings_mut(&mut self) -> impl Iterator<Item = (u32, &mut Binding)> + '_ {
        self.entries.iter_mut().zip(self.first..).filter_map(|(entry, addr)| Some((addr, entry.as_mut()?)))
    }

    /// Addresses ever handed out.
    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.entries.iter().flatten().count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leased(expires: u64) -> Binding {
        Binding { owner: Some([2, 0, 0, 0, 0, 1]), expires, bound: true }
    }

    #[test]
    fn lease_table_keeps_addresses_inside_its_pool() {
        let mut table = LeaseTable::new(100, 3);
        assert!(table.get_or_insert(99, leased(1)).is_none());
        assert!(table.get_or_insert(103, leased(1)).is_none());
        assert!(table.get_or_insert(u32::MAX, leased(1)).is_none());
        assert_eq!(table.get_or_insert(102, leased(5)).map(|b| b.expires), Some(5));
        assert_eq!(table.get_or_insert(102, leased(9)).map(|b| b.expires), Some(5), "an existing binding is kept");
        assert_eq!(table.iter().map(|(addr, b)| (addr, b.expires)).collect::<Vec<_>>(), [(102, 5)]);
        assert!(table.get(100).is_none());
        assert_eq!(table.len(), 1);
    }

    #[test]
    fn lease_table_memory_does_not_grow_with_use() {
        let mut table = LeaseTable::new(10, 241);
        let capacity = table.entries.capacity();
        for addr in 10..251 {
            table.get_or_insert(addr, leased(u64::from(addr)));
        }
        assert_eq!(table.entries.capacity(), capacity);
        assert_eq!(table.len(), 241);
        table.bindings_mut().for_each(|(_, b)| b.bound = false);
        assert!(table.iter().all(|(_, b)| !b.bound));
    }
}
