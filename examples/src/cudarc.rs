//! Stand-in for `cudarc::driver`: devices, device slices, PTX modules and kernel launches.
//!
//! The shapes follow cudarc 0.12: `CudaDevice::alloc` is an `unsafe fn` because
//! it returns uninitialized device memory, and `CudaFunction::launch` is an
//! `unsafe fn` because nothing checks the arguments against the kernel's
//! signature. Here device memory is a host `Vec` and a launch only validates
//! its configuration, so the crate builds and runs without a GPU.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, RwLock};

/// Stand-in for `cudarc::driver::sys`: the driver API's result codes.
pub mod sys {
    /// The `CUresult` codes this crate meets.
    #[allow(non_camel_case_types)]
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum CUresult {
        CUDA_ERROR_INVALID_VALUE = 1,
        CUDA_ERROR_NOT_FOUND = 500,
    }
}

/// A `CUresult` other than `CUDA_SUCCESS`, as cudarc wraps it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DriverError(pub sys::CUresult);

/// `CUDA_ERROR_INVALID_VALUE`.
pub const CUDA_ERROR_INVALID_VALUE: DriverError = DriverError(sys::CUresult::CUDA_ERROR_INVALID_VALUE);
/// `CUDA_ERROR_NOT_FOUND`.
pub const CUDA_ERROR_NOT_FOUND: DriverError = DriverError(sys::CUresult::CUDA_ERROR_NOT_FOUND);

impl fmt::Display for DriverError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // CAST: CUresult → u32, the enum's discriminant is the driver's numeric code
        write!(f, "CUDA driver error {}", self.0 as u32)
    }
}

impl std::error::Error for DriverError {}

/// Types that can be copied to the device and passed to kernels by value.
///
/// # Safety
///
/// Implementing this trait promises the driver that the type can be moved to
/// and from device memory as raw bytes.
///
/// ## Invariants
/// - The type has no padding bytes and every bit pattern is a valid value.
/// - The type owns no host resources (no pointers into host memory, no `Drop`).
///
/// ## Caller Responsibilities
/// - Implement it only for plain-old-data types whose layout matches the
///   kernel's C type (`#[repr(C)]` or a primitive).
///
/// ## Justification
/// Kernels read their arguments as raw bytes; a wrong layout is undefined
/// behavior on the device, which the compiler cannot see.
pub unsafe trait DeviceRepr: Copy + Default + Send + Sync + 'static {}

macro_rules! device_repr {
    ($($ty:ty),* $(,)?) => {
        $(
            // SAFETY: a primitive number has no padding and every bit pattern is valid,
            // so the driver may copy it bytewise in either direction.
            unsafe impl DeviceRepr for $ty {}
        )*
    };
}

device_repr!(u8, u16, u32, i8, i32, i64, f32, f64);

/// A PTX module's source text.
#[derive(Debug, Clone)]
pub struct Ptx(String);

impl Ptx {
    pub fn from_src(src: impl Into<String>) -> Self {
        Self(src.into())
    }
}

/// Stand-in for `cudarc::nvrtc`: runtime compilation of CUDA C to PTX.
pub mod nvrtc {
    use super::Ptx;

    /// NVRTC's compile log.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct CompileError(pub String);

    impl std::fmt::Display for CompileError {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "NVRTC compilation failed: {}", self.0)
        }
    }

    impl std::error::Error for CompileError {}

    /// Compiles CUDA C source to PTX (the stand-in keeps the source as the module text).
    pub fn compile_ptx(src: &str) -> Result<Ptx, CompileError> {
        if src.contains("__global__") {
            Ok(Ptx::from_src(src))
        } else {
            Err(CompileError("no __global__ kernel in the source".to_owned()))
        }
    }
}

/// A CUDA context on one device, shared through `Arc`.
#[derive(Debug)]
pub struct CudaDevice {
    ordinal: usize,
    modules: RwLock<HashMap<String, Vec<String>>>,
}

/// Memory on a device: `len` elements of `T`.
#[derive(Debug, Clone)]
pub struct CudaSlice<T: DeviceRepr> {
    host: Vec<T>,
    device: Arc<CudaDevice>,
}

impl<T: DeviceRepr> CudaSlice<T> {
    pub fn len(&self) -> usize {
        self.host.len()
    }

    pub fn is_empty(&self) -> bool {
        self.host.is_empty()
    }

    pub fn num_bytes(&self) -> usize {
        self.host.len() * std::mem::size_of::<T>()
    }

    pub fn device(&self) -> &Arc<CudaDevice> {
        &self.device
    }

    /// The slice's device address (a host address in the stand-in).
    pub fn device_ptr(&self) -> *const T {
        self.host.as_ptr()
    }

    /// The slice's device address, for kernels and libraries that write to it.
    pub fn device_ptr_mut(&mut self) -> *mut T {
        self.host.as_mut_ptr()
    }
}

impl CudaDevice {
    /// Opens device `ordinal` and creates its primary context.
    pub fn new(ordinal: usize) -> Result<Arc<Self>, DriverError> {
        Ok(Arc::new(Self { ordinal, modules: RwLock::new(HashMap::new()) }))
    }

    pub fn ordinal(&self) -> usize {
        self.ordinal
    }

    /// Allocates `len` elements of device memory without initializing them.
    ///
    /// # Safety
    ///
    /// The returned memory holds whatever the previous owner left there.
    ///
    /// ## Invariants
    /// - The slice has exactly `len` elements and belongs to this device's context.
    ///
    /// ## Caller Responsibilities
    /// - Write every element (with a kernel or a copy) before anything reads it.
    /// - Keep `len` within the device's free memory; a failed allocation is an `Err`.
    ///
    /// ## Justification
    /// Zero-filling a buffer that a kernel overwrites entirely costs a full
    /// pass over device memory; `cuMemAlloc` skips it.
    pub unsafe fn alloc<T: DeviceRepr>(self: &Arc<Self>, len: usize) -> Result<CudaSlice<T>, DriverError> {
        // The stand-in fills with T::default() where a real allocation holds garbage.
        Ok(CudaSlice { host: vec![T::default(); len], device: Arc::clone(self) })
    }

    /// Allocates `len` zeroed elements.
    pub fn alloc_zeros<T: DeviceRepr>(self: &Arc<Self>, len: usize) -> Result<CudaSlice<T>, DriverError> {
        // SAFETY: every element is overwritten by the fill below before the slice is returned,
        // so no uninitialized element is ever read.
        // safety-ls: allow(unsafe-device-alloc) -- this is the driver itself, below any wrapper
        let mut slice = unsafe { self.alloc::<T>(len) }?;
        slice.host.fill(T::default());
        Ok(slice)
    }

    /// Copies a host slice to a new device allocation and waits for the copy.
    pub fn htod_sync_copy<T: DeviceRepr>(self: &Arc<Self>, src: &[T]) -> Result<CudaSlice<T>, DriverError> {
        Ok(CudaSlice { host: src.to_vec(), device: Arc::clone(self) })
    }

    /// Copies a device slice back to the host and waits for the copy.
    pub fn dtoh_sync_copy<T: DeviceRepr>(&self, src: &CudaSlice<T>) -> Result<Vec<T>, DriverError> {
        Ok(src.host.clone())
    }

    /// Loads a PTX module and registers the named kernels under `module`.
    pub fn load_ptx(&self, ptx: Ptx, module: &str, kernels: &[&str]) -> Result<(), DriverError> {
        if ptx.0.is_empty() {
            return Err(CUDA_ERROR_INVALID_VALUE);
        }
        let mut modules = self.modules.write().map_err(|_| CUDA_ERROR_INVALID_VALUE)?;
        modules.insert(module.to_owned(), kernels.iter().map(|name| (*name).to_owned()).collect());
        Ok(())
    }

    /// A kernel from a loaded module.
    pub fn get_func(&self, module: &str, kernel: &str) -> Option<CudaFunction> {
        let modules = self.modules.read().ok()?;
        modules
            .get(module)?
            .iter()
            .any(|name| name == kernel)
            .then(|| CudaFunction { module: module.to_owned(), name: kernel.to_owned() })
    }

    /// A new stream that waits for the work already queued on the default stream.
    pub fn fork_default_stream(self: &Arc<Self>) -> Result<CudaStream, DriverError> {
        Ok(CudaStream { stream: std::ptr::null_mut(), device: Arc::clone(self) })
    }

    /// Waits for all work queued on the device.
    pub fn synchronize(&self) -> Result<(), DriverError> {
        Ok(())
    }
}

/// A CUDA stream of one device (`CUstream`).
#[derive(Debug)]
pub struct CudaStream {
    stream: *mut std::ffi::c_void,
    device: Arc<CudaDevice>,
}

impl CudaStream {
    /// The raw `CUstream`, for libraries such as cuBLAS that take one.
    pub fn cu_stream(&self) -> *mut std::ffi::c_void {
        self.stream
    }

    pub fn device(&self) -> &Arc<CudaDevice> {
        &self.device
    }
}

/// Grid and block dimensions of a launch, as in `cudarc::driver::LaunchConfig`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LaunchConfig {
    pub grid_dim: (u32, u32, u32),
    pub block_dim: (u32, u32, u32),
    pub shared_mem_bytes: u32,
}

impl LaunchConfig {
    /// One thread per element, in blocks of 1024.
    pub const fn for_num_elems(n: u32) -> Self {
        Self { grid_dim: (n.div_ceil(1024), 1, 1), block_dim: (1024, 1, 1), shared_mem_bytes: 0 }
    }
}

/// A kernel's argument tuple.
pub trait KernelParams {
    /// How many arguments the tuple passes.
    const COUNT: usize;
}

macro_rules! kernel_params {
    ($count:expr; $($name:ident),+) => {
        impl<$($name),+> KernelParams for ($($name,)+) {
            const COUNT: usize = $count;
        }
    };
}

kernel_params!(1; A);
kernel_params!(2; A, B);
kernel_params!(3; A, B, C);
kernel_params!(4; A, B, C, D);
kernel_params!(5; A, B, C, D, E);
kernel_params!(6; A, B, C, D, E, F);
kernel_params!(7; A, B, C, D, E, F, G);
kernel_params!(8; A, B, C, D, E, F, G, H);
kernel_params!(9; A, B, C, D, E, F, G, H, I);
kernel_params!(10; A, B, C, D, E, F, G, H, I, J);

/// A kernel loaded from a module.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CudaFunction {
    module: String,
    name: String,
}

impl CudaFunction {
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Queues the kernel on the device's default stream.
    ///
    /// # Safety
    ///
    /// Nothing checks `params` against the kernel's parameter list.
    ///
    /// ## Invariants
    /// - The launch is queued, not finished, when this returns; buffers stay
    ///   borrowed by the device until the stream is synchronized.
    ///
    /// ## Caller Responsibilities
    /// - `params` matches the kernel's parameters in number, order and type.
    /// - Every buffer is large enough for every index the kernel computes from
    ///   `cfg` and the scalar arguments.
    /// - No buffer written by the kernel is aliased by another argument or read
    ///   by the host before the stream is synchronized.
    ///
    /// ## Justification
    /// Kernel signatures live in PTX, outside the Rust type system.
    pub unsafe fn launch<P: KernelParams>(&self, cfg: LaunchConfig, _params: P) -> Result<(), DriverError> {
        let (x, y, z) = cfg.block_dim;
        let threads = x.checked_mul(y).and_then(|xy| xy.checked_mul(z));
        let empty_grid = cfg.grid_dim.0 == 0 || cfg.grid_dim.1 == 0 || cfg.grid_dim.2 == 0;
        match threads {
            Some(1..=1024) if !empty_grid && P::COUNT > 0 && !self.module.is_empty() => Ok(()),
            _ => Err(CUDA_ERROR_INVALID_VALUE),
        }
    }
}
