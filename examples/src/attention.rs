//! Scaled dot-product attention with grouped-query heads, candle style.
//!
//! Weights and activations are F16/BF16; the scores go through softmax in F32.

use crate::candle::{DType, Result, Tensor, ops};

/// Shape of one attention layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AttentionConfig {
    /// Number of query heads. Must be a multiple of `n_kv_heads`.
    pub n_heads: usize,
    /// Number of key/value heads (grouped-query attention).
    pub n_kv_heads: usize,
    /// Per-head dimension. Total hidden size = `n_heads * head_dim`.
    pub head_dim: usize,
}

impl AttentionConfig {
    /// `1 / sqrt(head_dim)`, the score scale.
    pub fn softmax_scale(&self) -> f64 {
        // CAST: usize → f64, head_dim is at most a few hundred, exact in f64
        let head_dim = self.head_dim as f64;
        head_dim.sqrt().recip()
    }
}

/// Repeats each key/value head `n_rep` times so K and V line up with the query heads.
fn repeat_kv(xs: &Tensor, n_rep: usize) -> Result<Tensor> {
    if n_rep == 1 {
        return Ok(xs.clone());
    }
    let (b, n_kv, seq, head_dim) = xs.dims4()?;
    let expanded = Tensor::zeros(&[b, n_kv, n_rep, seq * head_dim], xs.dtype(), xs.device())?;
    expanded.broadcast_add(&xs.reshape(&[b, n_kv, 1, seq * head_dim])?)?.reshape(&[b, n_kv * n_rep, seq, head_dim])
}

/// Attention over `q: (b, n_heads, seq, head_dim)`, `k, v: (b, n_kv_heads, seq, head_dim)`.
///
/// `mask` is added to the scores (0 or -inf), broadcast over heads.
pub fn scaled_dot_product_attention(
    cfg: &AttentionConfig,
    q: &Tensor,
    k: &Tensor,
    v: &Tensor,
    mask: Option<&Tensor>,
) -> Result<Tensor> {
    let n_rep = cfg.n_heads / cfg.n_kv_heads;
    let k = repeat_kv(k, n_rep)?;
    let v = repeat_kv(v, n_rep)?;

    // CONTIGUOUS: `t()` swaps the strides of the last two dims; the batched matmul
    // kernel wants a row-major rhs, so pay for one copy of K here.
    let k_t = k.t()?.contiguous()?;
    let scores = q.matmul(&k_t)?.affine(cfg.softmax_scale(), 0.0)?;
    let scores = match mask {
        Some(mask) => scores.broadcast_add(mask)?,
        None => scores,
    };
    // PROMOTE: exp() of F16 scores overflows past 65504 and BF16 sums lose the
    // small probabilities; softmax runs in F32 and the result goes back to the input dtype.
    let probs = ops::softmax_last_dim(&scores.to_dtype(DType::F32)?)?.to_dtype(q.dtype())?;
    probs.matmul(&v)
}

/// The attention pattern of one layer, for interpretability tooling: the
/// post-softmax probabilities as F32 rows.
pub fn attention_pattern(cfg: &AttentionConfig, q: &Tensor, k: &Tensor) -> Result<Tensor> {
    let k = repeat_kv(k, cfg.n_heads / cfg.n_kv_heads)?;
    // CONTIGUOUS: same transpose as in the forward pass; matmul needs row-major K^T
    let k_t = k.t()?.contiguous()?;
    let scores = q.matmul(&k_t)?.affine(cfg.softmax_scale(), 0.0)?;
    let scores = scores.to_dtype(DType::F32)?; //~ missing-promote
    ops::softmax_last_dim(&scores)
}

/// Attention entropy per query position (how spread out each row of the pattern is).
pub fn attention_entropy(probs: &Tensor) -> Result<Tensor> {
    /* PROMOTE: numerical stability */ //~ vague-annotation
    let probs = probs.to_dtype(DType::F32)?;
    let log_probs = probs.affine(1.0, 1e-9)?.log()?;
    probs.broadcast_mul(&log_probs)?.sum_keepdim(crate::candle::D::Minus1)?.affine(-1.0, 0.0)
}

/// Position ids `offset..offset + seq_len` for the rotary-embedding kernel, which takes `u32`.
pub fn position_ids(offset: usize, seq_len: usize) -> Vec<u32> {
    // CAST: usize → u32, TODO //~ placeholder-annotation
    (offset..offset + seq_len).map(|p| p as u32).collect()
}
