//! ASCII comparisons the analyzers and the semantics step share.

/// Whether `name` is `field` (lowercase letters, `-` and `:`: a field or directive name)
/// ASCII case-insensitively, 8 or 4 bytes at a time: a word of the name with the case bit
/// (0x20) set where the field has a letter equals the field's word. Letters are the field's
/// bytes with bit 6 set (`-` and `:` have it clear), so the other bytes must be equal as they
/// are.
#[inline(always)]
pub fn same_name(name: &[u8], field: &[u8]) -> bool {
    let n = field.len();
    if name.len() != n {
        return false;
    }
    fn word<const W: usize>(s: &[u8], at: usize) -> Option<[u8; W]> {
        s.get(at..at + W)?.try_into().ok()
    }
    let same8 = |at: usize| match (word::<8>(name, at), word::<8>(field, at)) {
        (Some(a), Some(b)) => {
            let (a, b) = (u64::from_le_bytes(a), u64::from_le_bytes(b));
            a | (b >> 1 & 0x2020_2020_2020_2020) == b
        }
        _ => false,
    };
    let same4 = |at: usize| match (word::<4>(name, at), word::<4>(field, at)) {
        (Some(a), Some(b)) => {
            let (a, b) = (u32::from_le_bytes(a), u32::from_le_bytes(b));
            a | (b >> 1 & 0x2020_2020) == b
        }
        _ => false,
    };
    match n {
        // Words that overlap at the end rather than a byte loop for the rest.
        8.. => {
            let mut at = 0;
            while at + 8 < n {
                if !same8(at) {
                    return false;
                }
                at += 8;
            }
            same8(n - 8)
        }
        4..8 => same4(0) && same4(n - 4),
        _ => name.eq_ignore_ascii_case(field),
    }
}
