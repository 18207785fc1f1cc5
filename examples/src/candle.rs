//! Stand-in for `candle_core` (plus `candle_nn::ops::softmax_last_dim`).
//!
//! Same names and shapes as the real crate: `Tensor`, `DType`, `Device`, `D`,
//! `Result`, and the methods the models in this crate call. Storage is a host
//! `Vec<f32>` with a dtype label; `to_dtype` rounds values the way the target
//! dtype would (BF16 drops mantissa bits, F16 overflows past 65504), so the
//! promotions the models annotate matter here too.

use std::fmt;
use std::sync::Arc;

/// Element types, as in `candle_core::DType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DType {
    U8,
    U32,
    F16,
    BF16,
    F32,
}

impl DType {
    /// Bytes per element on the device.
    pub const fn size_in_bytes(self) -> usize {
        match self {
            Self::U8 => 1,
            Self::F16 | Self::BF16 => 2,
            Self::U32 | Self::F32 => 4,
        }
    }

    /// Rounds an F32 value to what this dtype can hold.
    fn round(self, value: f32) -> f32 {
        match self {
            Self::BF16 => f32::from_bits(value.to_bits() & 0xFFFF_0000),
            Self::F16 if value.abs() > 65504.0 => value.signum() * f32::INFINITY,
            Self::U8 => value.clamp(0.0, 255.0).trunc(),
            Self::U32 => value.max(0.0).trunc(),
            Self::F16 | Self::F32 => value,
        }
    }
}

/// Where a tensor lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Device {
    Cpu,
    /// A CUDA device ordinal.
    Cuda(usize),
}

/// A dimension counted from the end, as in `candle_core::D`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum D {
    Minus1,
    Minus2,
}

/// The error type of every fallible tensor operation.
#[derive(Debug, Clone, PartialEq)]
pub enum Error {
    ShapeMismatch {
        op: &'static str,
        lhs: Vec<usize>,
        rhs: Vec<usize>,
    },
    DimOutOfRange {
        op: &'static str,
        rank: usize,
    },
    Msg(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ShapeMismatch { op, lhs, rhs } => write!(f, "shape mismatch in {op}: {lhs:?} vs {rhs:?}"),
            Self::DimOutOfRange { op, rank } => write!(f, "{op}: dimension out of range for a rank {rank} tensor"),
            Self::Msg(message) => f.write_str(message),
        }
    }
}

impl std::error::Error for Error {}

/// `candle_core::Result`.
pub type Result<T> = std::result::Result<T, Error>;

fn contiguous_strides(dims: &[usize]) -> Vec<usize> {
    let mut strides = vec![1; dims.len()];
    for i in (1..dims.len()).rev() {
        strides[i - 1] = strides[i] * dims[i];
    }
    strides
}

/// Turns a flat row-major position into a multi-index over `dims`.
fn unravel(mut flat: usize, dims: &[usize], index: &mut [usize]) {
    for (slot, &size) in index.iter_mut().zip(dims).rev() {
        *slot = flat % size;
        flat /= size;
    }
}

/// An n-dimensional array with a strided view over shared storage.
#[derive(Debug, Clone)]
pub struct Tensor {
    storage: Arc<Vec<f32>>,
    dims: Vec<usize>,
    strides: Vec<usize>,
    offset: usize,
    dtype: DType,
    device: Device,
}

impl Tensor {
    /// A contiguous F32 tensor holding `data` with shape `dims`.
    pub fn from_vec(data: Vec<f32>, dims: &[usize], device: &Device) -> Result<Self> {
        let expected: usize = dims.iter().product();
        if expected != data.len() {
            return Err(Error::Msg(format!("from_vec: {} values for shape {dims:?}", data.len())));
        }
        Ok(Self {
            storage: Arc::new(data),
            dims: dims.to_vec(),
            strides: contiguous_strides(dims),
            offset: 0,
            dtype: DType::F32,
            device: *device,
        })
    }

    /// A tensor of zeros.
    pub fn zeros(dims: &[usize], dtype: DType, device: &Device) -> Result<Self> {
        let tensor = Self::from_vec(vec![0.0; dims.iter().product()], dims, device)?;
        Ok(Self { dtype, ..tensor })
    }

    pub fn dims(&self) -> &[usize] {
        &self.dims
    }

    pub fn rank(&self) -> usize {
        self.dims.len()
    }

    pub fn dtype(&self) -> DType {
        self.dtype
    }

    pub fn device(&self) -> &Device {
        &self.device
    }

    pub fn elem_count(&self) -> usize {
        self.dims.iter().product()
    }

    /// The size of dimension `dim`, counted from the end.
    pub fn dim(&self, dim: D) -> Result<usize> {
        Ok(self.dims[self.axis(dim, "dim")?])
    }

    /// The four dimensions of a rank-4 tensor.
    pub fn dims4(&self) -> Result<(usize, usize, usize, usize)> {
        match self.dims.as_slice() {
            &[a, b, c, d] => Ok((a, b, c, d)),
            _ => Err(Error::DimOutOfRange { op: "dims4", rank: self.rank() }),
        }
    }

    /// Whether the strides are the row-major strides of the shape.
    pub fn is_contiguous(&self) -> bool {
        self.strides == contiguous_strides(&self.dims)
    }

    fn axis(&self, dim: D, op: &'static str) -> Result<usize> {
        let back = match dim {
            D::Minus1 => 1,
            D::Minus2 => 2,
        };
        self.rank().checked_sub(back).ok_or(Error::DimOutOfRange { op, rank: self.rank() })
    }

    fn at(&self, index: &[usize]) -> f32 {
        let position: usize = index.iter().zip(&self.strides).map(|(i, s)| i * s).sum();
        self.storage[self.offset + position]
    }

    /// The values in logical (row-major) order.
    fn values(&self) -> Vec<f32> {
        let mut index = vec![0; self.rank()];
        (0..self.elem_count())
            .map(|flat| {
                unravel(flat, &self.dims, &mut index);
                self.at(&index)
            })
            .collect()
    }

    fn with_values(&self, values: Vec<f32>, dims: &[usize]) -> Self {
        Self {
            storage: Arc::new(values.into_iter().map(|v| self.dtype.round(v)).collect()),
            dims: dims.to_vec(),
            strides: contiguous_strides(dims),
            offset: 0,
            dtype: self.dtype,
            device: self.device,
        }
    }

    fn map(&self, f: impl Fn(f32) -> f32) -> Self {
        let values = self.values().into_iter().map(f).collect();
        self.with_values(values, &self.dims)
    }

    /// Converts to another dtype (a copy, like candle's cast kernels).
    pub fn to_dtype(&self, dtype: DType) -> Result<Self> {
        let values = self.values().into_iter().map(|v| dtype.round(v)).collect();
        Ok(Self { dtype, ..self.with_values(values, &self.dims) })
    }

    /// A row-major copy if the layout is strided, else a cheap clone.
    pub fn contiguous(&self) -> Result<Self> {
        if self.is_contiguous() {
            return Ok(self.clone());
        }
        Ok(self.with_values(self.values(), &self.dims))
    }

    /// Swaps two dimensions without copying: only the strides change.
    pub fn transpose(&self, a: usize, b: usize) -> Result<Self> {
        if a >= self.rank() || b >= self.rank() {
            return Err(Error::DimOutOfRange { op: "transpose", rank: self.rank() });
        }
        let mut swapped = self.clone();
        swapped.dims.swap(a, b);
        swapped.strides.swap(a, b);
        Ok(swapped)
    }

    /// Transposes the last two dimensions.
    pub fn t(&self) -> Result<Self> {
        let last = self.axis(D::Minus1, "t")?;
        let before = self.axis(D::Minus2, "t")?;
        self.transpose(before, last)
    }

    /// The same values with another shape (copies strided tensors first).
    pub fn reshape(&self, dims: &[usize]) -> Result<Self> {
        if dims.iter().product::<usize>() != self.elem_count() {
            return Err(Error::ShapeMismatch { op: "reshape", lhs: self.dims.clone(), rhs: dims.to_vec() });
        }
        let source = self.contiguous()?;
        Ok(Self { dims: dims.to_vec(), strides: contiguous_strides(dims), ..source })
    }

    /// Batched matrix product over the last two dimensions: `(.., m, k) x (.., k, n)`.
    pub fn matmul(&self, rhs: &Self) -> Result<Self> {
        let mismatch = || Error::ShapeMismatch { op: "matmul", lhs: self.dims.clone(), rhs: rhs.dims.clone() };
        let rank = self.rank();
        if rank < 2 || rhs.rank() != rank || self.dims[..rank - 2] != rhs.dims[..rank - 2] {
            return Err(mismatch());
        }
        let (m, k, n) = (self.dims[rank - 2], self.dims[rank - 1], rhs.dims[rank - 1]);
        if rhs.dims[rank - 2] != k {
            return Err(mismatch());
        }
        let mut dims = self.dims.clone();
        dims[rank - 1] = n;
        let batch: usize = self.dims[..rank - 2].iter().product();
        let mut out = Vec::with_capacity(batch * m * n);
        let mut lhs_index = vec![0; rank];
        let mut rhs_index = vec![0; rank];
        for b in 0..batch {
            unravel(b, &self.dims[..rank - 2], &mut lhs_index[..rank - 2]);
            unravel(b, &rhs.dims[..rank - 2], &mut rhs_index[..rank - 2]);
            for i in 0..m {
                for j in 0..n {
                    let mut acc = 0.0;
                    for l in 0..k {
                        (lhs_index[rank - 2], lhs_index[rank - 1]) = (i, l);
                        (rhs_index[rank - 2], rhs_index[rank - 1]) = (l, j);
                        acc += self.at(&lhs_index) * rhs.at(&rhs_index);
                    }
                    out.push(acc);
                }
            }
        }
        Ok(self.with_values(out, &dims))
    }

    fn broadcast_binary(&self, rhs: &Self, op: &'static str, f: impl Fn(f32, f32) -> f32) -> Result<Self> {
        let skip = self.rank().checked_sub(rhs.rank());
        let fits = skip.is_some_and(|skip| {
            rhs.dims.iter().zip(&self.dims[skip..]).all(|(&r, &l)| r == l || r == 1)
        });
        let skip = match skip {
            Some(skip) if fits => skip,
            _ => return Err(Error::ShapeMismatch { op, lhs: self.dims.clone(), rhs: rhs.dims.clone() }),
        };
        let mut index = vec![0; self.rank()];
        let mut rhs_index = vec![0; rhs.rank()];
        let values = (0..self.elem_count())
            .map(|flat| {
                unravel(flat, &self.dims, &mut index);
                for (slot, (&i, &size)) in rhs_index.iter_mut().zip(index[skip..].iter().zip(&rhs.dims)) {
                    *slot = if size == 1 { 0 } else { i };
                }
                f(self.at(&index), rhs.at(&rhs_index))
            })
            .collect();
        Ok(self.with_values(values, &self.dims))
    }

    pub fn broadcast_add(&self, rhs: &Self) -> Result<Self> {
        self.broadcast_binary(rhs, "broadcast_add", |a, b| a + b)
    }

    pub fn broadcast_sub(&self, rhs: &Self) -> Result<Self> {
        self.broadcast_binary(rhs, "broadcast_sub", |a, b| a - b)
    }

    pub fn broadcast_mul(&self, rhs: &Self) -> Result<Self> {
        self.broadcast_binary(rhs, "broadcast_mul", |a, b| a * b)
    }

    pub fn broadcast_div(&self, rhs: &Self) -> Result<Self> {
        self.broadcast_binary(rhs, "broadcast_div", |a, b| a / b)
    }

    /// `self * mul + add`, elementwise.
    pub fn affine(&self, mul: f64, add: f64) -> Result<Self> {
        // CAST: f64 → f32, candle takes f64 scalars and applies them at the tensor's precision
        let (mul, add) = (mul as f32, add as f32);
        Ok(self.map(|v| v * mul + add))
    }

    pub fn sqr(&self) -> Result<Self> {
        Ok(self.map(|v| v * v))
    }

    pub fn sqrt(&self) -> Result<Self> {
        Ok(self.map(f32::sqrt))
    }

    pub fn exp(&self) -> Result<Self> {
        Ok(self.map(f32::exp))
    }

    pub fn log(&self) -> Result<Self> {
        Ok(self.map(f32::ln))
    }

    fn reduce_last(&self, op: &'static str, f: impl Fn(&[f32]) -> f32) -> Result<Self> {
        let width = self.dims[self.axis(D::Minus1, op)?];
        let values: Vec<f32> = self.values().chunks(width.max(1)).map(&f).collect();
        let mut dims = self.dims.clone();
        if let Some(last) = dims.last_mut() {
            *last = 1;
        }
        Ok(self.with_values(values, &dims))
    }

    /// Sum over `dim`, keeping it with size 1 (only the last dimension is supported here).
    pub fn sum_keepdim(&self, dim: D) -> Result<Self> {
        self.last_only(dim, "sum_keepdim")?;
        self.reduce_last("sum_keepdim", |row| row.iter().sum())
    }

    /// Maximum over `dim`, keeping it with size 1.
    pub fn max_keepdim(&self, dim: D) -> Result<Self> {
        self.last_only(dim, "max_keepdim")?;
        self.reduce_last("max_keepdim", |row| row.iter().copied().fold(f32::NEG_INFINITY, f32::max))
    }

    /// Mean over `dim`, keeping it with size 1.
    pub fn mean_keepdim(&self, dim: D) -> Result<Self> {
        self.last_only(dim, "mean_keepdim")?;
        // CAST: usize → f32, a row length (≤ 2^24 for any hidden size) is exact in f32
        self.reduce_last("mean_keepdim", |row| row.iter().sum::<f32>() / row.len() as f32)
    }

    fn last_only(&self, dim: D, op: &'static str) -> Result<()> {
        match dim {
            D::Minus1 => Ok(()),
            D::Minus2 => Err(Error::Msg(format!("{op}: only the last dimension is supported"))),
        }
    }

    /// The values of a rank-1 tensor.
    pub fn to_vec1(&self) -> Result<Vec<f32>> {
        match self.rank() {
            1 => Ok(self.values()),
            rank => Err(Error::DimOutOfRange { op: "to_vec1", rank }),
        }
    }
}

/// Stand-in for `candle_nn::ops`.
pub mod ops {
    use super::{D, Result, Tensor};

    /// Softmax over the last dimension, computed in the input's dtype.
    pub fn softmax_last_dim(xs: &Tensor) -> Result<Tensor> {
        let max = xs.max_keepdim(D::Minus1)?;
        let exp = xs.broadcast_sub(&max)?.exp()?;
        let sum = exp.sum_keepdim(D::Minus1)?;
        exp.broadcast_div(&sum)
    }
}
