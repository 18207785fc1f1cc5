//! The CUDA driver API, loaded at run time with `dlopen("libcuda.so.1")`.
//!
//! No crates: `dlopen`/`dlsym` come from the C library, and each driver entry
//! point is a plain `extern "C"` function pointer. Launch sites call
//! `(cu.cuLaunchKernel)(..)` themselves, so that compute-sanitizer's host
//! backtrace names the launching function and line, not a wrapper.

#![allow(non_snake_case)]

use std::ffi::{c_char, c_int, c_uint, c_void, CStr, CString};
use std::fmt;

pub type CUresult = c_int;
pub type CUdevice = c_int;
pub type CUdeviceptr = u64;
pub type CUcontext = *mut c_void;
pub type CUmodule = *mut c_void;
pub type CUfunction = *mut c_void;
pub type CUstream = *mut c_void;

const RTLD_NOW: c_int = 2;

extern "C" {
    fn dlopen(filename: *const c_char, flags: c_int) -> *mut c_void;
    fn dlsym(handle: *mut c_void, symbol: *const c_char) -> *mut c_void;
    fn dlerror() -> *const c_char;
}

/// A failed driver call, or a driver that could not be loaded.
#[derive(Debug)]
pub struct CudaError {
    pub call: &'static str,
    pub code: CUresult,
    pub detail: String,
}

impl fmt::Display for CudaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} failed with CUresult {}{}", self.call, self.code, self.detail)
    }
}

/// The driver entry points this crate uses, as loaded from libcuda.so.1.
pub struct Driver {
    pub cuInit: unsafe extern "C" fn(c_uint) -> CUresult,
    pub cuDeviceGet: unsafe extern "C" fn(*mut CUdevice, c_int) -> CUresult,
    pub cuDevicePrimaryCtxRetain: unsafe extern "C" fn(*mut CUcontext, CUdevice) -> CUresult,
    pub cuCtxSetCurrent: unsafe extern "C" fn(CUcontext) -> CUresult,
    pub cuCtxSynchronize: unsafe extern "C" fn() -> CUresult,
    pub cuModuleLoadData: unsafe extern "C" fn(*mut CUmodule, *const c_void) -> CUresult,
    pub cuModuleGetFunction: unsafe extern "C" fn(*mut CUfunction, CUmodule, *const c_char) -> CUresult,
    pub cuMemAlloc_v2: unsafe extern "C" fn(*mut CUdeviceptr, usize) -> CUresult,
    pub cuMemFree_v2: unsafe extern "C" fn(CUdeviceptr) -> CUresult,
    pub cuMemcpyHtoD_v2: unsafe extern "C" fn(CUdeviceptr, *const c_void, usize) -> CUresult,
    pub cuMemcpyDtoH_v2: unsafe extern "C" fn(*mut c_void, CUdeviceptr, usize) -> CUresult,
    #[allow(clippy::type_complexity)]
    pub cuLaunchKernel: unsafe extern "C" fn(
        CUfunction,
        c_uint,
        c_uint,
        c_uint,
        c_uint,
        c_uint,
        c_uint,
        c_uint,
        CUstream,
        *mut *mut c_void,
        *mut *mut c_void,
    ) -> CUresult,
}

fn last_dl_error() -> String {
    // SAFETY: dlerror returns null or a NUL-terminated string owned by the C library,
    // valid until the next dl* call on this thread; it is copied out at once.
    let message = unsafe { dlerror() };
    if message.is_null() {
        return "unknown error".to_owned();
    }
    // SAFETY: non-null, NUL-terminated (see above).
    unsafe { CStr::from_ptr(message) }.to_string_lossy().into_owned()
}

/// Looks up `name` in `handle` as a function pointer of type `F`.
///
/// # Safety
///
/// `F` must be an `extern "C"` function pointer type matching the C declaration of
/// `name` in the CUDA driver API; a mismatch is undefined behavior at the first call.
unsafe fn symbol<F: Copy>(handle: *mut c_void, name: &'static str) -> Result<F, CudaError> {
    let c_name = CString::new(name).expect("symbol names have no NUL");
    // SAFETY: `handle` came from a successful dlopen and `c_name` is NUL-terminated.
    let found = unsafe { dlsym(handle, c_name.as_ptr()) };
    if found.is_null() {
        return Err(CudaError { call: "dlsym", code: -1, detail: format!(": {name}: {}", last_dl_error()) });
    }
    assert_eq!(std::mem::size_of::<F>(), std::mem::size_of::<*mut c_void>());
    // SAFETY: a function pointer has the size of a data pointer on every platform CUDA
    // supports (asserted above); the caller vouches that `F` matches the symbol.
    Ok(unsafe { std::mem::transmute_copy::<*mut c_void, F>(&found) })
}

impl Driver {
    /// Loads libcuda.so.1 and every entry point above.
    pub fn load() -> Result<Self, CudaError> {
        let library = CString::new("libcuda.so.1").expect("no NUL");
        // SAFETY: a NUL-terminated file name; RTLD_NOW resolves everything up front.
        let handle = unsafe { dlopen(library.as_ptr(), RTLD_NOW) };
        if handle.is_null() {
            return Err(CudaError { call: "dlopen", code: -1, detail: format!(": {}", last_dl_error()) });
        }
        // SAFETY: each field's type is the C declaration of the symbol it is loaded from
        // (cuda.h of CUDA 12/13; the `_v2` names are the 64-bit entry points).
        unsafe {
            Ok(Self {
                cuInit: symbol(handle, "cuInit")?,
                cuDeviceGet: symbol(handle, "cuDeviceGet")?,
                cuDevicePrimaryCtxRetain: symbol(handle, "cuDevicePrimaryCtxRetain")?,
                cuCtxSetCurrent: symbol(handle, "cuCtxSetCurrent")?,
                cuCtxSynchronize: symbol(handle, "cuCtxSynchronize")?,
                cuModuleLoadData: symbol(handle, "cuModuleLoadData")?,
                cuModuleGetFunction: symbol(handle, "cuModuleGetFunction")?,
                cuMemAlloc_v2: symbol(handle, "cuMemAlloc_v2")?,
                cuMemFree_v2: symbol(handle, "cuMemFree_v2")?,
                cuMemcpyHtoD_v2: symbol(handle, "cuMemcpyHtoD_v2")?,
                cuMemcpyDtoH_v2: symbol(handle, "cuMemcpyDtoH_v2")?,
                cuLaunchKernel: symbol(handle, "cuLaunchKernel")?,
            })
        }
    }
}

/// `Ok(())` for CUDA_SUCCESS, else an error naming the call.
pub fn check(call: &'static str, code: CUresult) -> Result<(), CudaError> {
    if code == 0 {
        Ok(())
    } else {
        Err(CudaError { call, code, detail: String::new() })
    }
}
