//! Quantized matmul (`y = x · dequant(W)ᵀ`) with a custom CUDA kernel, mistral.rs style.
//!
//! Weights are 4-bit, packed two per byte, in groups of `GROUP_SIZE` along `k`
//! with one F32 scale per group and output row.

use std::sync::Arc;

use crate::candle::{self, Device, Result, Tensor};
use crate::cudarc::{CudaDevice, CudaFunction, CudaSlice, DriverError, LaunchConfig, nvrtc};

/// Elements of `k` that share one scale.
pub const GROUP_SIZE: usize = 128;
/// Threads per block along `n` and along `m`; the kernel is compiled with
/// `__launch_bounds__(256)`.
const BLOCK: (u32, u32) = (32, 8);

/// CUDA C source of the kernels, compiled with NVRTC when the layer is created.
const KERNELS: &str = include_str!("kernels/q4_matmul.cu");

fn driver(error: DriverError) -> candle::Error {
    candle::Error::Msg(error.to_string())
}

/// A linear layer with 4-bit group-quantized weights resident on the device.
#[derive(Debug)]
pub struct QMatMul {
    device: Arc<CudaDevice>,
    /// `n * k / 2` bytes: two 4-bit weights per byte, row-major `(n, k)`.
    qweight: CudaSlice<u8>,
    /// `n * k / GROUP_SIZE` scales, row-major `(n, k / GROUP_SIZE)`.
    scales: CudaSlice<f32>,
    /// Host copy of the scales as a tensor `(k / GROUP_SIZE, n)`, for the CPU fallback.
    scales_t: Tensor,
    n: usize,
    k: usize,
    matmul: CudaFunction,
    dequantize: CudaFunction,
}

impl QMatMul {
    /// Uploads packed weights and scales and loads the kernels.
    pub fn new(device: &Arc<CudaDevice>, qweight: &[u8], scales: &[f32], n: usize, k: usize) -> Result<Self> {
        let fits_u32 = u32::try_from(n.max(k)).is_ok();
        if !fits_u32 || !k.is_multiple_of(GROUP_SIZE) || qweight.len() != n * k / 2 || scales.len() != n * k / GROUP_SIZE {
            return Err(candle::Error::Msg(format!("QMatMul::new: bad shapes for n={n}, k={k}")));
        }
        let ptx = nvrtc::compile_ptx(KERNELS).map_err(|e| candle::Error::Msg(e.to_string()))?;
        device.load_ptx(ptx, "q4", &["q4_matmul_f32", "q4_dequantize_f32"]).map_err(driver)?;
        let missing = || candle::Error::Msg("q4 kernels missing from the PTX module".to_owned());
        let scales_host = Tensor::from_vec(scales.to_vec(), &[n, k / GROUP_SIZE], &Device::Cpu)?;
        Ok(Self {
            device: Arc::clone(device),
            qweight: device.htod_sync_copy(qweight).map_err(driver)?,
            scales: device.htod_sync_copy(scales).map_err(driver)?,
            scales_t: scales_host.t()?,
            n,
            k,
            matmul: device.get_func("q4", "q4_matmul_f32").ok_or_else(missing)?,
            dequantize: device.get_func("q4", "q4_dequantize_f32").ok_or_else(missing)?,
        })
    }

    /// `x: (m, k)` on the device, F32, row-major; returns `y: (m, n)`.
    pub fn forward(&self, x: &CudaSlice<f32>, m: usize) -> Result<CudaSlice<f32>> {
        let (n, k) = (self.n, self.k);
        if x.len() != m * k || u32::try_from(m).is_err() {
            return Err(candle::Error::Msg(format!("QMatMul::forward: x has {} values, want {m}x{k}", x.len())));
        }
        // SAFETY: `out` has m * n elements and the q4_matmul_f32 launch below writes every
        // one of them (one thread per output, the grid covers m x n) before anything reads it.
        let mut out = unsafe { self.device.alloc::<f32>(m * n) }.map_err(driver)?; //~ unsafe-device-alloc
        // CAST: usize → u32, m, n and k were checked to fit in u32 (here and in `new`)
        let (m32, n32, k32) = (m as u32, n as u32, k as u32);
        let cfg = LaunchConfig {
            grid_dim: (n32.div_ceil(BLOCK.0), m32.div_ceil(BLOCK.1), 1),
            block_dim: (BLOCK.0, BLOCK.1, 1),
            shared_mem_bytes: 0,
        };
        // SAFETY: the arguments match `q4_matmul_f32(const uint8_t*, const float*, const float*,
        // float*, uint32_t m, uint32_t n, uint32_t k)` in order and type; `qweight` holds n*k/2
        // bytes, `scales` n*k/128 floats, `x` m*k floats and `out` m*n floats, as checked in
        // `new` and above; 32x8 = 256 threads per block is within `__launch_bounds__(256)`;
        // `out` is a fresh allocation, aliased by no other argument.
        unsafe { self.matmul.launch(cfg, (&self.qweight, &self.scales, x, &mut out, m32, n32, k32)) }
            .map_err(driver)?;
        Ok(out)
    }

    /// Expands the weights to F32 `(n, k)` on the device (for debugging and export).
    pub fn dequantize(&self) -> Result<CudaSlice<f32>> {
        let elems = self.n * self.k;
        let mut out = self.device.alloc_zeros::<f32>(elems).map_err(driver)?;
        // CAST: usize → u32, the number of scale groups per row fits in u32 (n, k checked in `new`)
        let groups = (self.k / GROUP_SIZE) as i32; //~ cast-annotation-mismatch
        // CAST: usize → u32, n * k ≤ 2^32 - 1 for every supported layer shape
        let cfg = LaunchConfig::for_num_elems(elems as u32);
        unsafe { //~ undocumented-unsafe-block
            self.dequantize.launch(cfg, (&self.qweight, &self.scales, &mut out, groups))
        }
        .map_err(driver)?;
        Ok(out)
    }

    /// `forward` for long inputs: taller tiles, so fewer blocks along `m`.
    pub fn forward_tall(&self, x: &CudaSlice<f32>, m: usize) -> Result<CudaSlice<f32>> {
        let (n, k) = (self.n, self.k);
        if x.len() != m * k || u32::try_from(m).is_err() {
            return Err(candle::Error::Msg(format!("QMatMul::forward_tall: x has {} values, want {m}x{k}", x.len())));
        }
        let mut out = self.device.alloc_zeros::<f32>(m * n).map_err(driver)?;
        // CAST: usize → u32, m, n and k were checked to fit in u32 (here and in `new`)
        let (m32, n32, k32) = (m as u32, n as u32, k as u32);
        let cfg = LaunchConfig {
            grid_dim: (n32.div_ceil(32), m32.div_ceil(16), 1),
            block_dim: (32, 16, 1),
            shared_mem_bytes: 0,
        };
        // SAFETY: the arguments match `q4_matmul_f32` in order and type, and every buffer holds
        // what the kernel reads or writes for an m x n output.
        unsafe { self.matmul.launch(cfg, (&self.qweight, &self.scales, x, &mut out, m32, n32, k32)) } //~ kernel-launch, kernel-launch-mismatch
            .map_err(driver)?;
        Ok(out)
    }

    /// CPU reference for tests: `x: (m, k)` times the dequantized scales only,
    /// i.e. the per-group magnitude the kernel applies.
    pub fn group_magnitude(&self, x_groups: &Tensor) -> Result<Tensor> {
        // `scales_t` is the transpose of a row-major (n, groups) tensor.
        let scales = self.scales_t.contiguous()?; //~ missing-contiguous
        x_groups.matmul(&scales)
    }
}
