//! RMSNorm (Llama, Mistral) and LayerNorm over the hidden dimension.

use crate::candle::{D, DType, Result, Tensor};

/// Root-mean-square normalization with a learned scale.
#[derive(Debug, Clone)]
pub struct RmsNorm {
    /// Per-channel scale, shape `(hidden,)`, stored in the model dtype.
    weight: Tensor,
    /// Added to the mean square before the square root (1e-5 or 1e-6).
    eps: f64,
}

impl RmsNorm {
    pub fn new(weight: Tensor, eps: f64) -> Self {
        Self { weight, eps }
    }

    /// `x / sqrt(mean(x^2) + eps) * weight`, returned in the input dtype.
    pub fn forward(&self, xs: &Tensor) -> Result<Tensor> {
        let dtype = xs.dtype();
        // PROMOTE: the mean of 4096 squared BF16 activations loses 8 mantissa bits per
        // partial sum; accumulate and divide in F32, then return to the model dtype.
        let xs = xs.to_dtype(DType::F32)?;
        let inv_rms = xs.sqr()?.mean_keepdim(D::Minus1)?.affine(1.0, self.eps)?.sqrt()?;
        let normed = xs.broadcast_div(&inv_rms)?.to_dtype(dtype)?;
        normed.broadcast_mul(&self.weight)
    }
}

/// LayerNorm with a learned scale and bias (GPT-2, BERT).
#[derive(Debug, Clone)]
pub struct LayerNorm {
    /// Per-channel scale, shape `(hidden,)`.
    weight: Tensor,
    /// Per-channel shift, shape `(hidden,)`.
    bias: Tensor,
    /// Added to the variance before the square root.
    eps: f64,
}

impl LayerNorm {
    pub fn new(weight: Tensor, bias: Tensor, eps: f64) -> Self {
        Self { weight, bias, eps }
    }

    /// `(x - mean) / sqrt(var + eps) * weight + bias`.
    pub fn forward(&self, xs: &Tensor) -> Result<Tensor> {
        let dtype = xs.dtype();
        // PROMOTE: x - mean cancels catastrophically in F16 when activations carry a
        // large DC offset (outlier channels); center and scale in F32.
        let xs = xs.to_dtype(DType::F32)?;
        let mean = xs.mean_keepdim(D::Minus1)?;
        let centered = xs.broadcast_sub(&mean)?;
        let var = centered.sqr()?.mean_keepdim(D::Minus1)?;
        let normed = centered.broadcast_div(&var.affine(1.0, self.eps)?.sqrt()?)?;
        normed.to_dtype(dtype)?.broadcast_mul(&self.weight)?.broadcast_add(&self.bias)
    }

    /// Mean and variance of each row, for calibration statistics.
    pub fn row_stats(xs: &Tensor) -> Result<(Vec<f32>, Vec<f32>)> {
        let hidden = xs.dim(D::Minus1)?;
        let rows = xs.elem_count() / hidden;
        let flat = xs.to_dtype(DType::F32)?.reshape(&[rows * hidden])?.to_vec1()?; //~ missing-promote
        let mut means = Vec::with_capacity(rows);
        let mut vars = Vec::with_capacity(rows);
        for row in flat.chunks(hidden) {
            let n = hidden as f32; //~ missing-cast
            let mean = row.iter().sum::<f32>() / n;
            let var = row.iter().map(|v| (v - mean) * (v - mean)).sum::<f32>() / n;
            means.push(mean);
            vars.push(var);
        }
        Ok((means, vars))
    }
}
