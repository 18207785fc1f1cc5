//! Compiled-kernel caches shared by the model executor's worker threads.
//!
//! `KernelCache` is the pattern from the ROCmForge review (finding 7): its
//! SAFETY comment claims synchronization that the struct does not have.
//! `SharedKernelCache` is the fix the review recommends: the maps sit behind an
//! `RwLock`, and the compiler derives `Send` and `Sync` with no `unsafe impl`.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use crate::cudarc::{CudaDevice, CudaFunction, DriverError, nvrtc};

/// Per-module kernel names, and the kernels already looked up.
#[derive(Debug)]
pub struct KernelCache {
    device: Arc<CudaDevice>,
    modules: HashMap<String, Vec<String>>,
    kernels: HashMap<String, CudaFunction>,
}

// SAFETY: KernelCache is Send+Sync because CudaDevice is Send+Sync
// and we ensure thread-safe access to the HashMaps through proper synchronization
unsafe impl Send for KernelCache {}
unsafe impl Sync for KernelCache {} //~ undocumented-unsafe-impl, unjustified-send-sync

impl KernelCache {
    pub fn new(device: Arc<CudaDevice>) -> Self {
        Self { device, modules: HashMap::new(), kernels: HashMap::new() }
    }

    /// Compiles `src`, loads it as `module` and caches `kernel`.
    pub fn compile_kernel(&mut self, module: &str, kernel: &str, src: &str) -> Result<CudaFunction, DriverError> {
        if let Some(function) = self.kernels.get(kernel) {
            return Ok(function.clone());
        }
        let ptx = nvrtc::compile_ptx(src).map_err(|_| crate::cudarc::CUDA_ERROR_INVALID_VALUE)?;
        self.device.load_ptx(ptx, module, &[kernel])?;
        self.modules.entry(module.to_owned()).or_default().push(kernel.to_owned());
        let function = self.device.get_func(module, kernel).ok_or(crate::cudarc::CUDA_ERROR_NOT_FOUND)?;
        self.kernels.insert(kernel.to_owned(), function.clone());
        Ok(function)
    }
}

/// The same cache, safe to share: `&self` methods take the lock.
#[derive(Debug)]
pub struct SharedKernelCache {
    device: Arc<CudaDevice>,
    kernels: RwLock<HashMap<String, CudaFunction>>,
}

impl SharedKernelCache {
    pub fn new(device: Arc<CudaDevice>) -> Self {
        Self { device, kernels: RwLock::new(HashMap::new()) }
    }

    /// The cached kernel, compiling and loading it on first use.
    pub fn get_or_compile(&self, module: &str, kernel: &str, src: &str) -> Result<CudaFunction, DriverError> {
        if let Some(function) = self.kernels.read().ok().and_then(|kernels| kernels.get(kernel).cloned()) {
            return Ok(function);
        }
        let mut kernels = self.kernels.write().map_err(|_| crate::cudarc::CUDA_ERROR_INVALID_VALUE)?;
        if let Some(function) = kernels.get(kernel) {
            return Ok(function.clone()); // another thread compiled it while we waited
        }
        let ptx = nvrtc::compile_ptx(src).map_err(|_| crate::cudarc::CUDA_ERROR_INVALID_VALUE)?;
        self.device.load_ptx(ptx, module, &[kernel])?;
        let function = self.device.get_func(module, kernel).ok_or(crate::cudarc::CUDA_ERROR_NOT_FOUND)?;
        kernels.insert(kernel.to_owned(), function.clone());
        Ok(function)
    }
}
