//! Device buffers for activations, and a pinned host staging area for uploads.

use std::sync::Arc;

use crate::candle::DType;
use crate::cudarc::{CudaDevice, CudaSlice, DriverError};

/// Scratch space for one decode step: logits and the sampled token ids.
#[derive(Debug)]
pub struct DecodeBuffers {
    /// `(batch, vocab)` logits, written by the LM head before sampling reads them.
    pub logits: CudaSlice<f32>,
    /// `(batch,)` sampled token ids, zero until the first step.
    pub tokens: CudaSlice<u32>,
}

impl DecodeBuffers {
    pub fn new(device: &Arc<CudaDevice>, batch: usize, vocab: usize) -> Result<Self, DriverError> {
        // SAFETY: the LM-head matmul writes all batch * vocab logits at the start of every
        // step, and sampling only reads them after that write on the same stream, so the
        // uninitialized contents are never observed.
        let logits = unsafe { device.alloc::<f32>(batch * vocab) }?; //~ unsafe-device-alloc
        // Token ids are read by the first step before any kernel writes them: zero them.
        let tokens = device.alloc_zeros::<u32>(batch)?;
        Ok(Self { logits, tokens })
    }

    /// Bytes held on the device, as reported in the memory summary.
    pub fn device_bytes(&self) -> usize {
        self.logits.len() * DType::F32.size_in_bytes() + self.tokens.len() * DType::U32.size_in_bytes()
    }
}

/// Page-locked host memory that uploads are staged through.
///
/// `ptr` and `len` are set once in `new`, before the value can be shared, and
/// never change; the bytes behind `ptr` are written only through `&mut self`.
#[derive(Debug)]
pub struct PinnedStaging {
    ptr: *mut u8,
    len: usize,
}

// SAFETY: `PinnedStaging` owns its allocation exclusively (no other pointer to it exists),
// so moving the owner to another thread moves sole access with it.
unsafe impl Send for PinnedStaging {}

// SAFETY: through `&self` the staging area is read-only: `ptr` and `len` are written once in
// `new` and never mutated, and the bytes are written only via `&mut self`, so shared
// references never race with a write.
unsafe impl Sync for PinnedStaging {}

impl PinnedStaging {
    /// Allocates `len` bytes (`cudaHostAlloc` in a real build; the global allocator here).
    pub fn new(len: usize) -> Self {
        let buffer = vec![0u8; len].into_boxed_slice();
        Self { ptr: Box::into_raw(buffer).cast::<u8>(), len }
    }

    pub fn as_slice(&self) -> &[u8] {
        // SAFETY: `ptr` came from a boxed slice of `len` initialized bytes that lives until
        // `Drop`, and `&self` excludes writers for the lifetime of the returned borrow.
        unsafe { std::slice::from_raw_parts(self.ptr, self.len) }
    }

    pub fn as_mut_slice(&mut self) -> &mut [u8] {
        // SAFETY: as in `as_slice`, and `&mut self` makes this the only live reference.
        unsafe { std::slice::from_raw_parts_mut(self.ptr, self.len) }
    }

    pub fn as_ptr(&self) -> *const u8 {
        self.ptr
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl Drop for PinnedStaging {
    fn drop(&mut self) {
        let slice = ptr_slice(self.ptr, self.len);
        // SAFETY: `slice` is the pointer `Box::into_raw` returned in `new` with its original
        // length; `Drop` runs once, so the box is rebuilt and freed exactly once.
        drop(unsafe { Box::from_raw(slice) });
    }
}

fn ptr_slice(ptr: *mut u8, len: usize) -> *mut [u8] {
    std::ptr::slice_from_raw_parts_mut(ptr, len)
}
