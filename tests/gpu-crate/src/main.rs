//! A CUDA host program with planted defects, for `safety-ls validate`.
//!
//! Four launches run in order: a correct `vector_add`, a `scale` that reads a
//! buffer nobody wrote (initcheck), a `block_sum` whose shared-memory sum races
//! (racecheck), and a `vector_add` over twice its buffers (memcheck). The
//! out-of-bounds launch runs last because memcheck stops a faulting kernel,
//! which leaves the context unusable. Name launches on the command line to run
//! only those (`gpu-crate vector_add block_sum_race`).
//!
//! The SAFETY comments on the defective launches are wrong on purpose: they
//! say what the code meant to do, and the sanitizer finds where it does not.

mod driver;

use std::ffi::{c_void, CString};
use std::process::ExitCode;
use std::ptr;

use driver::{check, CUdeviceptr, CUfunction, CUmodule, CudaError, Driver};

/// The kernels, compiled to PTX by build.rs, NUL-terminated for cuModuleLoadData.
const PTX: &str = concat!(include_str!(concat!(env!("OUT_DIR"), "/kernels.ptx")), "\0");

const ELEMENTS: usize = 1024;
const BLOCK: u32 = 256;
const BLOCKS: u32 = 4;
const ELEMENTS_U32: u32 = 1024;
const BLOCKS_USIZE: usize = 4;

struct Gpu {
    cu: Driver,
    module: CUmodule,
}

impl Gpu {
    fn new() -> Result<Self, CudaError> {
        let cu = Driver::load()?;
        let mut device = 0;
        let mut context = ptr::null_mut();
        let mut module = ptr::null_mut();
        // SAFETY: the driver functions were loaded with their C signatures, and every
        // out-pointer points to a live local of the type the driver writes.
        unsafe {
            check("cuInit", (cu.cuInit)(0))?;
            check("cuDeviceGet", (cu.cuDeviceGet)(&mut device, 0))?;
            check("cuDevicePrimaryCtxRetain", (cu.cuDevicePrimaryCtxRetain)(&mut context, device))?;
            check("cuCtxSetCurrent", (cu.cuCtxSetCurrent)(context))?;
            check("cuModuleLoadData", (cu.cuModuleLoadData)(&mut module, PTX.as_ptr().cast()))?;
        }
        Ok(Self { cu, module })
    }

    fn function(&self, name: &str) -> Result<CUfunction, CudaError> {
        let c_name = CString::new(name).expect("kernel names have no NUL");
        let mut function = ptr::null_mut();
        // SAFETY: `module` is loaded in the current context and `c_name` is NUL-terminated.
        check("cuModuleGetFunction", unsafe { (self.cu.cuModuleGetFunction)(&mut function, self.module, c_name.as_ptr()) })?;
        Ok(function)
    }

    /// Device memory for `elements` floats, left uninitialized.
    fn alloc(&self, elements: usize) -> Result<CUdeviceptr, CudaError> {
        let mut pointer = 0;
        // SAFETY: `pointer` is a live out-parameter; the size is in bytes.
        check("cuMemAlloc", unsafe { (self.cu.cuMemAlloc_v2)(&mut pointer, elements * size_of::<f32>()) })?;
        Ok(pointer)
    }

    fn upload(&self, values: &[f32]) -> Result<CUdeviceptr, CudaError> {
        let pointer = self.alloc(values.len())?;
        // SAFETY: `pointer` holds `values.len()` floats, and `values` is that many bytes long.
        check("cuMemcpyHtoD", unsafe { (self.cu.cuMemcpyHtoD_v2)(pointer, values.as_ptr().cast(), size_of_val(values)) })?;
        Ok(pointer)
    }

    fn download(&self, pointer: CUdeviceptr, elements: usize) -> Result<Vec<f32>, CudaError> {
        let mut values = vec![0.0f32; elements];
        // SAFETY: `values` has room for `elements` floats and `pointer` holds at least that many.
        check("cuMemcpyDtoH", unsafe {
            (self.cu.cuMemcpyDtoH_v2)(values.as_mut_ptr().cast(), pointer, elements * size_of::<f32>())
        })?;
        Ok(values)
    }

    fn synchronize(&self) -> Result<(), CudaError> {
        // SAFETY: a context is current on this thread (set in `new`).
        check("cuCtxSynchronize", unsafe { (self.cu.cuCtxSynchronize)() })
    }

    fn free(&self, pointers: &[CUdeviceptr]) {
        for &pointer in pointers {
            // SAFETY: each pointer came from `alloc` and is freed once, after the
            // launches that use it were synchronized.
            unsafe { (self.cu.cuMemFree_v2)(pointer) };
        }
    }
}

/// The correct launch: 1024 elements, 4 blocks of 256 threads, every buffer 1024 floats.
fn launch_vector_add(gpu: &Gpu) -> Result<(), CudaError> {
    let f = gpu.function("vector_add")?;
    let (mut a, mut b) = (gpu.upload(&[1.0; ELEMENTS])?, gpu.upload(&[2.0; ELEMENTS])?);
    let mut out = gpu.upload(&[0.0; ELEMENTS])?;
    let mut n = ELEMENTS_U32;
    let mut params = [
        (&raw mut a).cast::<c_void>(),
        (&raw mut b).cast::<c_void>(),
        (&raw mut out).cast::<c_void>(),
        (&raw mut n).cast::<c_void>(),
    ];
    // SAFETY: parameters: the four pointers in `params` match vector_add(const float*,
    // const float*, float*, unsigned int) in order and type, and outlive the call.
    // Buffer sizes: a, b and out hold n = 1024 floats, and the grid covers exactly n.
    // Aliasing: out is a separate allocation from a and b. Launch dimensions: 4 blocks
    // of 256 threads, within __launch_bounds__(256). No dynamic shared memory.
    // Synchronization: the context is synchronized before the result is read.
    let launched = unsafe {
        (gpu.cu.cuLaunchKernel)(f, BLOCKS, 1, 1, 256, 1, 1, 0, ptr::null_mut(), params.as_mut_ptr(), ptr::null_mut())
    };
    check("cuLaunchKernel(vector_add)", launched)?;
    gpu.synchronize()?;
    let sums = gpu.download(out, ELEMENTS)?;
    assert!(sums.iter().all(|&sum| sum == 3.0), "vector_add computed a wrong sum");
    gpu.free(&[a, b, out]);
    Ok(())
}

/// Planted defect (initcheck): `input` is allocated and never written before `scale` reads it.
fn launch_scale_uninit(gpu: &Gpu) -> Result<(), CudaError> {
    let f = gpu.function("scale")?;
    let mut input = gpu.alloc(ELEMENTS)?;
    let mut out = gpu.upload(&[0.0; ELEMENTS])?;
    let (mut factor, mut n) = (2.0f32, ELEMENTS_U32);
    let mut params = [
        (&raw mut input).cast::<c_void>(),
        (&raw mut out).cast::<c_void>(),
        (&raw mut factor).cast::<c_void>(),
        (&raw mut n).cast::<c_void>(),
    ];
    // SAFETY: parameters: `params` matches scale(const float*, float*, float, unsigned int)
    // in order and type. Buffer sizes: input and out hold n = 1024 floats and input was
    // filled by the caller. Aliasing: input and out are distinct allocations. Launch
    // dimensions: 4 blocks of 256 threads cover n. No dynamic shared memory.
    // Synchronization: the context is synchronized before anything reads out.
    let launched = unsafe {
        (gpu.cu.cuLaunchKernel)(
            f,
            BLOCKS,
            1,
            1,
            BLOCK,
            1,
            1,
            0,
            ptr::null_mut(),
            params.as_mut_ptr(),
            ptr::null_mut(),
        )
    };
    check("cuLaunchKernel(scale)", launched)?;
    gpu.synchronize()?;
    gpu.free(&[input, out]);
    Ok(())
}

/// Planted defect (racecheck): block_sum adds into `__shared__` memory without atomics.
fn launch_block_sum_race(gpu: &Gpu) -> Result<(), CudaError> {
    let f = gpu.function("block_sum")?;
    let mut input = gpu.upload(&[1.0; ELEMENTS])?;
    let mut out = gpu.upload(&[0.0; BLOCKS_USIZE])?;
    let mut n = ELEMENTS_U32;
    let mut params = [(&raw mut input).cast::<c_void>(), (&raw mut out).cast::<c_void>(), (&raw mut n).cast::<c_void>()];
    // SAFETY: parameters: `params` matches block_sum(const float*, float*, unsigned int).
    // Buffer sizes: input holds n = 1024 floats, out one float per block (4). Aliasing:
    // distinct allocations. Launch dimensions: 4 blocks of 256 threads, within
    // __launch_bounds__(256). Shared memory is static (one float), none dynamic.
    // Synchronization: the context is synchronized before out is read.
    let launched = unsafe {
        (gpu.cu.cuLaunchKernel)(f, BLOCKS, 1, 1, BLOCK, 1, 1, 0, ptr::null_mut(), params.as_mut_ptr(), ptr::null_mut())
    };
    check("cuLaunchKernel(block_sum)", launched)?;
    gpu.synchronize()?;
    gpu.free(&[input, out]);
    Ok(())
}

/// Planted defect (memcheck): n is 2048 but every buffer holds 1024 floats.
fn launch_vector_add_oob(gpu: &Gpu) -> Result<(), CudaError> {
    let f = gpu.function("vector_add")?;
    let (mut a, mut b) = (gpu.upload(&[1.0; ELEMENTS])?, gpu.upload(&[2.0; ELEMENTS])?);
    let mut out = gpu.upload(&[0.0; ELEMENTS])?;
    let mut n = 2 * ELEMENTS_U32;
    let mut params = [
        (&raw mut a).cast::<c_void>(),
        (&raw mut b).cast::<c_void>(),
        (&raw mut out).cast::<c_void>(),
        (&raw mut n).cast::<c_void>(),
    ];
    // SAFETY: parameters: `params` matches vector_add(const float*, const float*, float*,
    // unsigned int). Buffer sizes: a, b and out hold n floats for the 8 x 256 grid.
    // Aliasing: out is distinct from a and b. Launch dimensions: 256 threads per block,
    // within __launch_bounds__(256). No dynamic shared memory. Synchronization: the
    // context is synchronized before the buffers are freed.
    let launched = unsafe {
        (gpu.cu.cuLaunchKernel)(f, 2 * BLOCKS, 1, 1, BLOCK, 1, 1, 0, ptr::null_mut(), params.as_mut_ptr(), ptr::null_mut())
    };
    check("cuLaunchKernel(vector_add)", launched)?;
    gpu.synchronize()?;
    gpu.free(&[a, b, out]);
    Ok(())
}

type Launch = fn(&Gpu) -> Result<(), CudaError>;

const LAUNCHES: [(&str, Launch); 4] = [
    ("vector_add", launch_vector_add),
    ("scale_uninit", launch_scale_uninit),
    ("block_sum_race", launch_block_sum_race),
    ("vector_add_oob", launch_vector_add_oob),
];

fn main() -> ExitCode {
    let wanted: Vec<String> = std::env::args().skip(1).collect();
    if let Some(unknown) = wanted.iter().find(|name| !LAUNCHES.iter().any(|(known, _)| known == name)) {
        eprintln!("gpu-crate: unknown launch {unknown:?}");
        return ExitCode::from(2);
    }
    let gpu = match Gpu::new() {
        Ok(gpu) => gpu,
        Err(error) => {
            eprintln!("gpu-crate: no usable GPU: {error}");
            return ExitCode::from(3);
        }
    };
    for (name, launch) in LAUNCHES {
        if !wanted.is_empty() && !wanted.iter().any(|w| w == name) {
            continue;
        }
        // A failed launch is reported and the others still run: the sanitizer's
        // findings, not this program's exit code, are what the test reads.
        match launch(&gpu) {
            Ok(()) => println!("done: {name}"),
            Err(error) => println!("{name}: {error}"),
        }
    }
    ExitCode::SUCCESS
}
