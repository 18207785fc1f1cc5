// 4-bit group-quantized matmul kernels, compiled at runtime with NVRTC.
//
// qweight: (n, k) row-major, two 4-bit weights per byte (low nibble first),
// stored as unsigned values with an implicit zero point of 8.
// scales:  (n, k / 128) row-major, one F32 scale per group of 128 weights.

#include <stdint.h>

#define GROUP_SIZE 128

__device__ __forceinline__ float q4_weight(const uint8_t* qweight, const float* scales,
                                           uint32_t row, uint32_t col, uint32_t k) {
    const uint32_t index = row * k + col;
    const uint8_t packed = qweight[index / 2];
    const int q = (index & 1) ? (packed >> 4) : (packed & 0xF);
    return (float)(q - 8) * scales[row * (k / GROUP_SIZE) + col / GROUP_SIZE];
}

// y[m, n] = sum_k x[m, k] * W[n, k]; one thread per output element.
extern "C" __global__ void __launch_bounds__(256)
q4_matmul_f32(const uint8_t* qweight, const float* scales, const float* x, float* y,
              uint32_t m, uint32_t n, uint32_t k) {
    const uint32_t col = blockIdx.x * blockDim.x + threadIdx.x;
    const uint32_t row = blockIdx.y * blockDim.y + threadIdx.y;
    if (row >= m || col >= n) {
        return;
    }
    float acc = 0.0f;
    for (uint32_t i = 0; i < k; ++i) {
        acc += x[row * k + i] * q4_weight(qweight, scales, col, i, k);
    }
    y[row * n + col] = acc;
}

// out[n, k] = dequant(W); one thread per weight. `groups` is k / GROUP_SIZE.
extern "C" __global__ void __launch_bounds__(1024)
q4_dequantize_f32(const uint8_t* qweight, const float* scales, float* out, int groups) {
    const uint32_t index = blockIdx.x * blockDim.x + threadIdx.x;
    const uint32_t k = (uint32_t)groups * GROUP_SIZE;
    const uint32_t total = gridDim.x * blockDim.x;
    if (index >= total) {
        return;
    }
    out[index] = q4_weight(qweight, scales, index / k, index % k, k);
}

// Host-side launcher for builds that link the kernels ahead of time (nvcc) instead of NVRTC;
// Rust declares it in src/launchers.rs.
extern "C" void launch_q4_dequantize_f32(const uint8_t* qweight, const float* scales, float* out,
                                         int groups, unsigned int blocks, void* stream) {
    q4_dequantize_f32<<<blocks, 1024, 0, (cudaStream_t)stream>>>(qweight, scales, out, groups);
}
