//! Dense matrix multiply through the `gemm` crate (pure Rust; it picks AVX2/FMA or AVX-512
//! kernels at run time and splits the product over rayon's threads), the FLOPS figure of a
//! node. A product of two `n x n` matrices counts `2 n^3` floating point operations, the
//! convention of LINPACK and of numpy's GFLOPS figures.

use super::{Config, time_kernel};

/// Rates in GFLOPS of `rounds` rounds of f64 products on `threads` threads.
pub(super) fn f64_rate(config: &Config, n: usize, threads: usize) -> Vec<f64> {
    rate(
        config,
        n,
        threads,
        |i| f64::from((i % 7) as u8) * 0.125,
        0.0,
        1.0,
    )
}

/// Rates in GFLOPS of `rounds` rounds of f32 products on `threads` threads.
pub(super) fn f32_rate(config: &Config, n: usize, threads: usize) -> Vec<f64> {
    rate(
        config,
        n,
        threads,
        |i| f32::from((i % 7) as u8) * 0.125,
        0.0,
        1.0,
    )
}

fn rate<T: Copy + 'static>(
    config: &Config,
    n: usize,
    threads: usize,
    value: impl Fn(usize) -> T,
    zero: T,
    one: T,
) -> Vec<f64> {
    // Small exact values (multiples of 1/8 below 1) keep every sum finite and away from
    // denormals, which would slow some CPUs down and measure the wrong thing.
    let lhs: Vec<T> = (0..n * n).map(&value).collect();
    let rhs: Vec<T> = (0..n * n).map(|i| value(i / 3)).collect();
    let mut dst: Vec<T> = vec![zero; n * n];
    let parallelism = if threads > 1 {
        gemm::Parallelism::Rayon(threads)
    } else {
        gemm::Parallelism::None
    };
    let flops = 2.0 * (n as f64).powi(3) / 1e9;
    time_kernel(config, |calls| {
        for _ in 0..calls {
            multiply(n, &mut dst, &lhs, &rhs, zero, one, parallelism);
            std::hint::black_box(&mut dst);
        }
        flops * calls as f64
    })
}

/// `dst = lhs * rhs` for column-major `n x n` matrices.
///
/// # Panics
/// When a slice does not hold exactly `n * n` elements.
fn multiply<T: Copy + 'static>(
    n: usize,
    dst: &mut [T],
    lhs: &[T],
    rhs: &[T],
    zero: T,
    one: T,
    parallelism: gemm::Parallelism,
) {
    let len = n.checked_mul(n).expect("matrix side squared fits usize");
    assert!(
        dst.len() == len && lhs.len() == len && rhs.len() == len,
        "every matrix must hold n * n elements"
    );
    let stride = isize::try_from(n).expect("matrix side fits isize");
    // `gemm` exposes only a raw-pointer API, the one place this crate allows unsafe code.
    // SAFETY: the three slices hold exactly n * n elements (checked above), and with row
    // stride 1 and column stride n every index (i, j) in 0..n reads or writes
    // i + j * n < n * n, inside its slice. `dst` is a unique borrow, so it aliases neither
    // input. `read_dst` is false, so `dst`'s old contents (and alpha) are never read, and
    // T is f32 or f64, both of which `gemm` supports.
    #[allow(unsafe_code)]
    unsafe {
        gemm::gemm(
            n,
            n,
            n,
            dst.as_mut_ptr(),
            stride,
            1,
            false,
            lhs.as_ptr(),
            stride,
            1,
            rhs.as_ptr(),
            stride,
            1,
            zero,
            one,
            false,
            false,
            false,
            parallelism,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multiply_matches_the_textbook_product() {
        let n = 5;
        let lhs: Vec<f64> = (0..n * n).map(|i| i as f64 * 0.5).collect();
        let rhs: Vec<f64> = (0..n * n).map(|i| (i % 3) as f64 - 1.0).collect();
        let mut dst = vec![f64::NAN; n * n];
        multiply(n, &mut dst, &lhs, &rhs, 0.0, 1.0, gemm::Parallelism::None);
        for i in 0..n {
            for j in 0..n {
                let want: f64 = (0..n).map(|k| lhs[i + k * n] * rhs[k + j * n]).sum();
                assert_eq!(dst[i + j * n], want, "element ({i}, {j})");
            }
        }
    }
}
