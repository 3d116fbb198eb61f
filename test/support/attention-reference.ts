// Multi-head attention written out in plain float64 loops from its definition, independent of the
// IR: per head h, softmax(q_h·k_hᵀ/√d [causal: keys j ≤ i]) · v_h, heads concatenated, then the
// output projection; q, k, v from the rows of torch.nn.MultiheadAttention's stacked in_proj_weight.
export interface AttentionWeights {
  readonly inWeight: ArrayLike<number>;
  readonly inBias: ArrayLike<number>;
  readonly outWeight: ArrayLike<number>;
  readonly outBias: ArrayLike<number>;
}

export interface AttentionDims {
  readonly width: number;
  readonly heads: number;
  readonly keyDim: number;
  readonly valueDim: number;
  readonly causal: boolean;
}

type Matrix = number[][];

/** Rows [from, from + count) of W·x + b for every row x of `input`. */
function project(input: Matrix, w: ArrayLike<number>, bias: ArrayLike<number>, width: number, from: number, count: number): Matrix {
  return input.map((x) =>
    Array.from({ length: count }, (_, r) => {
      let s = bias[from + r]!;
      for (let c = 0; c < width; c++) s += w[(from + r) * width + c]! * x[c]!;
      return s;
    }),
  );
}

/** One sample: query [Tq][E], key and value [Tk][E] → [Tq][E]. */
export function attentionReference(query: Matrix, key: Matrix, value: Matrix, p: AttentionWeights, d: AttentionDims): Matrix {
  const qRows = d.heads * d.keyDim;
  const q = project(query, p.inWeight, p.inBias, d.width, 0, qRows);
  const k = project(key, p.inWeight, p.inBias, d.width, qRows, qRows);
  const v = project(value, p.inWeight, p.inBias, d.width, 2 * qRows, d.heads * d.valueDim);
  const concat: Matrix = query.map(() => new Array<number>(d.heads * d.valueDim).fill(0));
  for (let h = 0; h < d.heads; h++) {
    for (let i = 0; i < query.length; i++) {
      const seen = d.causal ? Math.min(i + 1, key.length) : key.length;
      const scores: number[] = [];
      for (let j = 0; j < seen; j++) {
        let s = 0;
        for (let c = 0; c < d.keyDim; c++) s += q[i]![h * d.keyDim + c]! * k[j]![h * d.keyDim + c]!;
        scores.push(s / Math.sqrt(d.keyDim));
      }
      const max = Math.max(...scores);
      const e = scores.map((s) => Math.exp(s - max));
      const total = e.reduce((a, b) => a + b, 0);
      for (let j = 0; j < seen; j++) {
        for (let c = 0; c < d.valueDim; c++) concat[i]![h * d.valueDim + c]! += (e[j]! / total) * v[j]![h * d.valueDim + c]!;
      }
    }
  }
  return project(concat, p.outWeight, p.outBias, d.heads * d.valueDim, 0, d.width);
}
