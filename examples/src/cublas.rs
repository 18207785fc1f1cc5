//! A safe owner for a cuBLAS handle, shared across worker threads (mistral.rs `CudaBlasLT` style).

use std::ffi::c_int;
use std::ptr;

use crate::cudarc::{CudaSlice, CudaStream};
use crate::ffi;

/// A cuBLAS status other than `CUBLAS_STATUS_SUCCESS`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CublasError(pub ffi::cublasStatus_t);

fn check(status: ffi::cublasStatus_t) -> Result<(), CublasError> {
    if status == ffi::CUBLAS_STATUS_SUCCESS { Ok(()) } else { Err(CublasError(status)) }
}

/// One cuBLAS handle, created and destroyed by this value.
#[derive(Debug)]
pub struct CublasHandle {
    handle: ffi::cublasHandle_t,
}

// SAFETY: the handle is owned solely by this struct and cuBLAS handles are not tied to the
// thread that created them (cuBLAS 12.x docs), so moving the owner to another thread is sound.
unsafe impl Send for CublasHandle {}

// SAFETY: cuBLAS 12.x documents that the library is thread-safe and its functions can be
// called from multiple host threads, even with the same handle; `&self` methods only issue
// such calls, and the one that reconfigures the handle (`set_stream`) takes `&mut self`.
unsafe impl Sync for CublasHandle {}

impl CublasHandle {
    pub fn new() -> Result<Self, CublasError> {
        let mut handle = ptr::null_mut();
        // SAFETY: `&mut handle` is a valid, aligned out-pointer for one handle; on success
        // cuBLAS stores a live handle that `Drop` destroys exactly once.
        check(unsafe { ffi::cublasCreate_v2(&mut handle) })?;
        Ok(Self { handle })
    }

    /// Wraps a handle created elsewhere (for example by another library sharing the context).
    pub unsafe fn from_raw(handle: ffi::cublasHandle_t) -> Self { //~ missing-safety-doc
        Self { handle }
    }

    /// Queues later calls on `stream`.
    pub fn set_stream(&mut self, stream: &CudaStream) -> Result<(), CublasError> {
        // SAFETY: <why the stream outlives every call made with this handle> //~ placeholder-annotation
        check(unsafe { ffi::cublasSetStream_v2(self.handle, stream.cu_stream()) })
    }

    /// `c = a · b` for row-major `a: (m, k)`, `b: (k, n)`, `c: (m, n)` on the device.
    pub fn matmul(
        &self,
        a: &CudaSlice<f32>,
        b: &CudaSlice<f32>,
        c: &mut CudaSlice<f32>,
        (m, n, k): (usize, usize, usize),
    ) -> Result<(), CublasError> {
        let invalid = CublasError(ffi::CUBLAS_STATUS_INVALID_VALUE);
        if a.len() != m * k || b.len() != k * n || c.len() != m * n {
            return Err(invalid);
        }
        let dims = [m, n, k].map(c_int::try_from);
        let [Ok(m), Ok(n), Ok(k)] = dims else {
            return Err(invalid);
        };
        let (alpha, beta) = (1.0f32, 0.0f32);
        let (a_ptr, b_ptr, c_ptr) = (a.device_ptr(), b.device_ptr(), c.device_ptr_mut());
        // SAFETY: row-major C = A·B is column-major Cᵀ = Bᵀ·Aᵀ, so B is passed first with
        // ld = n and A with ld = k; the lengths were checked against m, n, k above, `c` is
        // borrowed mutably so it overlaps neither input, and alpha/beta live on this frame.
        check(unsafe {
            ffi::cublasSgemm_v2(
                self.handle, ffi::CUBLAS_OP_N, ffi::CUBLAS_OP_N, n, m, k,
                &alpha, b_ptr, n, a_ptr, k, &beta, c_ptr, n,
            )
        })
    }
}

impl Drop for CublasHandle {
    fn drop(&mut self) {
        unsafe { ffi::cublasDestroy_v2(self.handle) }; //~ undocumented-unsafe-block
    }
}
