//! Uploads from the pinned staging area to the device.
//!
//! Under the `structured` profile (mistral.rs template) every `# Safety`
//! section needs `## Invariants`, `## Caller Responsibilities` and
//! `## Justification`; `copy_from_staging` below lacks the second one.
//! Run `safety-ls check examples --profile structured` to see it.

use crate::cudarc::{CudaSlice, DeviceRepr};

/// Copies `len` elements from raw staging memory into the front of `dst`.
///
/// # Safety
///
/// Reads `len` elements through a raw pointer.
///
/// ## Invariants
/// - `dst` keeps its length; only its first `len` elements change.
///
/// ## Justification
/// The staging area is shared with the upload thread as a raw pointer so that
/// no borrow has to be held across the stream synchronization.
pub unsafe fn copy_from_staging<T: DeviceRepr>(src: *const T, len: usize, dst: &mut CudaSlice<T>) -> bool { //~ incomplete-safety-doc
    if len > dst.len() {
        return false;
    }
    // SAFETY: the caller guarantees `src` points to `len` initialized `T`s, and `len` fits in
    // `dst` (checked above); `dst` is borrowed mutably, so the regions cannot overlap.
    unsafe { std::ptr::copy_nonoverlapping(src, dst.device_ptr_mut(), len) };
    true
}
