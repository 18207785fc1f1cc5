// Kernels for the GPU test crate. Each is `extern "C"` so the host finds it by name,
// and safety-ls's kernel-launch-mismatch rule reads these signatures.

// out[i] = a[i] + b[i] for i < n.
extern "C" __global__ void __launch_bounds__(256)
vector_add(const float* a, const float* b, float* out, unsigned int n) {
    const unsigned int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) {
        out[i] = a[i] + b[i];
    }
}

// out[i] = factor * in[i] for i < n.
extern "C" __global__ void scale(const float* in, float* out, float factor, unsigned int n) {
    const unsigned int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) {
        out[i] = factor * in[i];
    }
}

// out[block] = sum of the block's inputs, accumulated in shared memory.
// Planted defect: every thread adds to `total` without atomics and without a
// barrier after thread 0 clears it, a shared-memory race racecheck reports.
extern "C" __global__ void __launch_bounds__(256)
block_sum(const float* in, float* out, unsigned int n) {
    __shared__ float total;
    const unsigned int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (threadIdx.x == 0) {
        total = 0.0f;
    }
    if (i < n) {
        total += in[i];
    }
    __syncthreads();
    if (threadIdx.x == 0) {
        out[blockIdx.x] = total;
    }
}
