//! The kernels that are not matrix multiply: integer multiply-add, SHA-256 of short
//! messages and the STREAM triad. The all-cores figures start one scoped thread per core,
//! each making every call of a round on its own data (the triad on its own slice of the
//! arrays), and divide the work of all threads by the round's wall time.

use std::hint::black_box;

use sha2::{Digest, Sha256};

use super::{Config, time_kernel};

/// Elements of the integer kernel's two arrays: 16 KiB each, so both stay in a 32 KiB L1
/// data cache and the kernel measures arithmetic, not memory.
const INT_ELEMENTS: usize = 4096;
/// Passes over the integer arrays per call.
const INT_PASSES: usize = 64;
/// An odd multiplier, so that the values never collapse to zero.
const INT_MULTIPLIER: u32 = 0x9E37_79B1;
/// Digests per call of the hash kernel.
const HASHES_PER_CALL: u64 = 1024;
/// The triad's scalar, STREAM's value.
const TRIAD_SCALAR: f64 = 3.0;

/// `a[i] = a[i] * M + b[i]` over the arrays, wrapping. Running it through `pulp`'s
/// dispatch compiles the loop once more with the best vector extensions this CPU has
/// (AVX2's eight u32 lanes here) and picks that copy at run time, without unsafe code.
struct MulAdd<'a> {
    a: &'a mut [u32],
    b: &'a [u32],
}

impl pulp::WithSimd for MulAdd<'_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, _simd: S) {
        for _ in 0..INT_PASSES {
            for (x, y) in self.a.iter_mut().zip(self.b) {
                *x = x.wrapping_mul(INT_MULTIPLIER).wrapping_add(*y);
            }
            // Keeps the compiler from folding passes together or interchanging the loops.
            black_box(&mut *self.a);
        }
    }
}

/// Rates in GOPS (a multiply and an add per element and pass) of the integer kernel.
pub(super) fn int_rate(config: &Config, threads: usize) -> Vec<f64> {
    let arch = pulp::Arch::new();
    let mut arrays: Vec<(Vec<u32>, Vec<u32>)> = (0..threads)
        .map(|t| {
            let a = (0..INT_ELEMENTS as u32).map(|i| i ^ t as u32).collect();
            let b = (0..INT_ELEMENTS as u32)
                .map(|i| i.wrapping_mul(7))
                .collect();
            (a, b)
        })
        .collect();
    let ops_per_call = (2 * INT_ELEMENTS * INT_PASSES) as f64 / 1e9;
    time_kernel(config, |calls| {
        std::thread::scope(|s| {
            for (a, b) in &mut arrays {
                s.spawn(move || {
                    for _ in 0..calls {
                        arch.dispatch(MulAdd { a, b });
                    }
                });
            }
        });
        ops_per_call * (calls * threads as u64) as f64
    })
}

/// Rates in hashes/s of SHA-256 over distinct 64-byte messages: each digest pads its
/// message to two 64-byte blocks, as `openssl speed -bytes 64 sha256` does. `sha2` uses
/// the SHA extensions (SHA-NI) when the CPU has them.
pub(super) fn sha256_rate(config: &Config, threads: usize) -> Vec<f64> {
    let mut counters: Vec<u64> = (0..threads as u64).map(|t| t << 48).collect();
    time_kernel(config, |calls| {
        std::thread::scope(|s| {
            for counter in &mut counters {
                s.spawn(move || {
                    let mut message = [0x5Au8; 64];
                    let mut fold = 0u8;
                    for _ in 0..calls * HASHES_PER_CALL {
                        message[..8].copy_from_slice(&counter.to_le_bytes());
                        *counter += 1;
                        fold ^= Sha256::digest(message)[0];
                    }
                    black_box(fold);
                });
            }
        });
        (calls * HASHES_PER_CALL * threads as u64) as f64
    })
}

/// Rates in GB/s (10^9 bytes/s) of the STREAM triad `a[i] = b[i] + s * c[i]`, counting
/// 24 bytes per element as STREAM does (the write-allocate read of `a` is not counted).
pub(super) fn triad_rate(config: &Config, threads: usize) -> Vec<f64> {
    let len = config.triad_elements.max(threads);
    // Every page is written before timing so that page faults are not measured.
    let mut a = vec![0.0f64; len];
    let b: Vec<f64> = (0..len).map(|i| (i % 1000) as f64).collect();
    let c: Vec<f64> = (0..len).map(|i| (i % 999) as f64 * 0.5).collect();
    a.fill(1.0);
    let chunk = len.div_ceil(threads);
    let gb_per_pass = (24 * len) as f64 / 1e9;
    time_kernel(config, |calls| {
        std::thread::scope(|s| {
            for ((a, b), c) in a
                .chunks_mut(chunk)
                .zip(b.chunks(chunk))
                .zip(c.chunks(chunk))
            {
                s.spawn(move || {
                    for _ in 0..calls {
                        for ((x, y), z) in a.iter_mut().zip(b).zip(c) {
                            *x = y + TRIAD_SCALAR * z;
                        }
                        black_box(&mut *a);
                    }
                });
            }
        });
        gb_per_pass * calls as f64
    })
}
