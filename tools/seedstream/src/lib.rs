//! The seeded pseudo-random byte stream the VM tests' servers send
//! (`tptest`, `tprouter`) and their clients check: both ends compute what
//! should arrive from the seed, so no data is shipped around to compare.

/// The byte stream of a seed: xorshift64*, 8 bytes per step. Filling
/// consecutive buffers whose lengths are multiples of 8 (the last one
/// aside) gives the same bytes as filling one.
pub struct Stream {
    state: u64,
}

impl Stream {
    /// The stream of `seed`, at its start.
    pub fn new(seed: u64) -> Self {
        Self {
            state: seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1,
        }
    }

    /// Fills `buf` with the next bytes.
    pub fn fill(&mut self, buf: &mut [u8]) {
        for word in buf.chunks_mut(8) {
            self.state ^= self.state >> 12;
            self.state ^= self.state << 25;
            self.state ^= self.state >> 27;
            let v = self.state.wrapping_mul(0x2545_F491_4F6C_DD1D).to_le_bytes();
            word.copy_from_slice(&v[..word.len()]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Stream;

    #[test]
    fn chunked_filling_is_the_same_stream() {
        let mut whole = vec![0u8; 100];
        Stream::new(7).fill(&mut whole);
        let mut parts = vec![0u8; 100];
        let mut s = Stream::new(7);
        s.fill(&mut parts[..64]);
        s.fill(&mut parts[64..]);
        assert_eq!(whole, parts);
        let mut other = vec![0u8; 100];
        Stream::new(8).fill(&mut other);
        assert_ne!(whole, other);
    }
}
