//! ITU-T G.711 µ-law and A-law, bit-exact.
//!
//! The arithmetic is the ITU-T G.191 reference formulation (the same results as the
//! well-known Sun Microsystems `g711.c`, except that negative µ-law input is truncated
//! symmetrically as G.191 does), so every code maps to exactly the value in G.711
//! Tables 1 and 2 and every PBX decodes what we send as we meant it. Decoding
//! goes through 256-entry tables computed at compile time; encoding is a handful of
//! integer operations, cheaper than a 64 KiB table in cache for 160 samples per frame.

/// Bias added to the magnitude before µ-law segment search (G.711 §3).
const ULAW_BIAS: i32 = 0x84;
/// Largest 14-bit magnitude that µ-law can represent before the bias is added.
const ULAW_CLIP: i32 = 8159;
const QUANT_MASK: u8 = 0x0F;
const SEG_SHIFT: u8 = 4;
const SEG_MASK: u8 = 0x70;
const SIGN_BIT: u8 = 0x80;

/// Segment for a biased magnitude: the number of the first end point not below it.
const fn segment(value: i32, ends: &[i32; 8]) -> u8 {
    let mut seg = 0;
    while seg < 8 {
        // Constant index below 8 into an 8-entry array.
        #[allow(clippy::indexing_slicing)]
        let end = ends[seg];
        if value <= end {
            return seg as u8;
        }
        seg += 1;
    }
    8
}

const ULAW_SEG_END: [i32; 8] = [0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF];
const ALAW_SEG_END: [i32; 8] = [0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF];

/// Encodes one 16-bit linear sample to µ-law.
pub const fn linear_to_ulaw(sample: i16) -> u8 {
    // Negative values are truncated through their one's complement, as in the ITU-T
    // G.191 reference (`ulaw_compress`), so that -1..-4 map to the negative zero code
    // and the quantiser is symmetric around zero.
    let s = sample as i32;
    let (mut pcm, mask): (i32, u8) = if s < 0 {
        (!s >> 2, 0x7F)
    } else {
        (s >> 2, 0xFF)
    };
    if pcm > ULAW_CLIP {
        pcm = ULAW_CLIP;
    }
    pcm += ULAW_BIAS >> 2;
    let seg = segment(pcm, &ULAW_SEG_END);
    if seg >= 8 {
        return 0x7F ^ mask;
    }
    let uval = (seg << 4) | (((pcm >> (seg + 1)) as u8) & QUANT_MASK);
    uval ^ mask
}

/// Decodes one µ-law code to a 16-bit linear sample.
pub const fn ulaw_to_linear(code: u8) -> i16 {
    let u = !code;
    let mut t = (((u & QUANT_MASK) as i32) << 3) + ULAW_BIAS;
    t <<= (u & SEG_MASK) >> SEG_SHIFT;
    (if u & SIGN_BIT != 0 {
        ULAW_BIAS - t
    } else {
        t - ULAW_BIAS
    }) as i16
}

/// Encodes one 16-bit linear sample to A-law (even bits inverted, as on the wire).
pub const fn linear_to_alaw(sample: i16) -> u8 {
    let mut pcm = (sample as i32) >> 3;
    let mask: u8 = if pcm >= 0 {
        0xD5
    } else {
        pcm = -pcm - 1;
        0x55
    };
    let seg = segment(pcm, &ALAW_SEG_END);
    if seg >= 8 {
        return 0x7F ^ mask;
    }
    let shift = if seg < 2 { 1 } else { seg };
    let aval = (seg << SEG_SHIFT) | (((pcm >> shift) as u8) & QUANT_MASK);
    aval ^ mask
}

/// Decodes one A-law code to a 16-bit linear sample.
pub const fn alaw_to_linear(code: u8) -> i16 {
    let a = code ^ 0x55;
    let mut t = ((a & QUANT_MASK) as i32) << 4;
    let seg = (a & SEG_MASK) >> SEG_SHIFT;
    match seg {
        0 => t += 8,
        1 => t += 0x108,
        _ => {
            t += 0x108;
            t <<= seg - 1;
        }
    }
    (if a & SIGN_BIT != 0 { t } else { -t }) as i16
}

const fn table(alaw: bool) -> [i16; 256] {
    let mut out = [0i16; 256];
    let mut i = 0;
    while i < 256 {
        // `i` is below 256, the table length.
        #[allow(clippy::indexing_slicing)]
        {
            out[i] = if alaw {
                alaw_to_linear(i as u8)
            } else {
                ulaw_to_linear(i as u8)
            };
        }
        i += 1;
    }
    out
}

/// µ-law decode table: `ULAW_TABLE[code]` is the linear value.
pub static ULAW_TABLE: [i16; 256] = table(false);
/// A-law decode table: `ALAW_TABLE[code]` is the linear value.
pub static ALAW_TABLE: [i16; 256] = table(true);

/// Appends the µ-law encoding of `pcm` to `out`.
pub fn encode_ulaw(pcm: &[i16], out: &mut Vec<u8>) {
    out.extend(pcm.iter().map(|&s| linear_to_ulaw(s)));
}

/// Appends the A-law encoding of `pcm` to `out`.
pub fn encode_alaw(pcm: &[i16], out: &mut Vec<u8>) {
    out.extend(pcm.iter().map(|&s| linear_to_alaw(s)));
}

/// Appends the linear samples of µ-law `codes` to `out`.
// A `u8` always indexes a 256-entry table.
#[allow(clippy::indexing_slicing)]
pub fn decode_ulaw(codes: &[u8], out: &mut Vec<i16>) {
    out.extend(codes.iter().map(|&c| ULAW_TABLE[usize::from(c)]));
}

/// Appends the linear samples of A-law `codes` to `out`.
// A `u8` always indexes a 256-entry table.
#[allow(clippy::indexing_slicing)]
pub fn decode_alaw(codes: &[u8], out: &mut Vec<i16>) {
    out.extend(codes.iter().map(|&c| ALAW_TABLE[usize::from(c)]));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_vectors() {
        // Silence.
        assert_eq!(linear_to_ulaw(0), 0xFF);
        assert_eq!(ulaw_to_linear(0xFF), 0);
        assert_eq!(ulaw_to_linear(0x7F), 0);
        assert_eq!(linear_to_alaw(0), 0xD5);
        assert_eq!(alaw_to_linear(0xD5), 8);
        assert_eq!(alaw_to_linear(0x55), -8);
        // Full scale (G.711 Tables 1 and 2, scaled to 16 bits).
        assert_eq!(ulaw_to_linear(0x80), 32124);
        assert_eq!(ulaw_to_linear(0x00), -32124);
        assert_eq!(linear_to_ulaw(i16::MAX), 0x80);
        assert_eq!(linear_to_ulaw(i16::MIN), 0x00);
        assert_eq!(alaw_to_linear(0xAA), 32256);
        assert_eq!(alaw_to_linear(0x2A), -32256);
        assert_eq!(linear_to_alaw(i16::MAX), 0xAA);
        assert_eq!(linear_to_alaw(i16::MIN), 0x2A);
        // Segment boundaries.
        assert_eq!(ulaw_to_linear(0xEF), 132);
        assert_eq!(linear_to_ulaw(-1), 0x7F);
        assert_eq!(linear_to_alaw(-1), 0x55);
    }

    #[test]
    fn every_code_is_a_fixed_point() {
        for code in 0..=255u8 {
            let back = linear_to_ulaw(ulaw_to_linear(code));
            if code == 0x7F {
                assert_eq!(back, 0xFF, "negative zero encodes as positive zero");
            } else {
                assert_eq!(back, code, "µ-law {code:#04x}");
            }
            assert_eq!(
                linear_to_alaw(alaw_to_linear(code)),
                code,
                "A-law {code:#04x}"
            );
        }
    }

    #[test]
    fn round_trip_error_is_within_half_a_step() {
        for s in i16::MIN..=i16::MAX {
            let x = i32::from(s);
            let bound = (x.abs() >> 4).max(16);
            let u = i32::from(ulaw_to_linear(linear_to_ulaw(s)));
            assert!((u - x).abs() <= bound, "µ-law {s} -> {u}");
            let a = i32::from(alaw_to_linear(linear_to_alaw(s)));
            assert!((a - x).abs() <= bound, "A-law {s} -> {a}");
        }
    }

    #[test]
    fn monotonic() {
        let mut prev_u = linear_to_ulaw(i16::MIN);
        let mut prev_a = alaw_to_linear(linear_to_alaw(i16::MIN));
        for s in (i16::MIN..=i16::MAX).step_by(7) {
            let u = ulaw_to_linear(linear_to_ulaw(s));
            assert!(u >= ulaw_to_linear(prev_u));
            prev_u = linear_to_ulaw(s);
            let a = alaw_to_linear(linear_to_alaw(s));
            assert!(a >= prev_a);
            prev_a = a;
        }
    }

    #[test]
    fn slices() {
        let pcm = [0i16, 1000, -1000, 32767, -32768];
        let mut u = Vec::new();
        encode_ulaw(&pcm, &mut u);
        let mut back = Vec::new();
        decode_ulaw(&u, &mut back);
        assert_eq!(back.len(), pcm.len());
        let mut a = Vec::new();
        encode_alaw(&pcm, &mut a);
        decode_alaw(&a, &mut back);
        assert_eq!(back.len(), 2 * pcm.len());
    }
}
