"""Mutations of the corpus in tests/steps_corpus: each a slip people make, which must fail at the
row it is made on.  (file, text to replace, replacement, kind, the line expected to fail first
(None: the line of the replacement), the diagnosis kind expected (None: any or none))."""

from __future__ import annotations

SIGN, FACTOR, INDEX, TERM, ASSUMPTION, RANGE, SMALL = "sign", "factor", "index", "term", "assumption", "range", "small sizes"

MUTATIONS = [
    # lecture 000: softmax Jacobian by the log trick
    ("lecture_softmax_jacobian.tex", "&= z_i - \\log(\\sum_{l=1}^n e^{z_l})", "&= z_i + \\log(\\sum_{l=1}^n e^{z_l})", SIGN, None, None),
    ("lecture_softmax_jacobian.tex", "&= 1\\{i = j\\} - \\frac{e^{z_j}}", "&= 1\\{i = j\\} - \\frac{e^{z_i}}", INDEX, None, "indices"),
    ("lecture_softmax_jacobian.tex", "&= 1\\{i = j\\} - s_j \\\\", "&= 1\\{i = j\\} - 2 s_j \\\\", FACTOR, None, None),
    ("lecture_softmax_jacobian.tex", "&= s_i \\cdot (1\\{i = j\\} - s_j)", "&= s_i \\cdot (1\\{i = j\\} - s_i)", INDEX, None, "indices"),
    ("lecture_softmax_jacobian.tex", "\\frac{e^{z_j}}{\\sum_{l=1}^n e^{z_l}} \\\\", "\\frac{e^{z_j}}{\\sum_{l=1}^{n-1} e^{z_l}} \\\\", RANGE, None, None),
    # lecture 000: cross-entropy gradient
    ("lecture_cross_entropy_gradient.tex", "&= -\\sum_{i=1}^C y_i \\cdot (1\\{i = j\\} - s_j) \\\\", "&= \\sum_{i=1}^C y_i \\cdot (1\\{i = j\\} - s_j) \\\\", SIGN, None, "sign"),
    ("lecture_cross_entropy_gradient.tex", "% gradproof: assume \\sum_{i=1}^{C} y_i = 1\n", "", ASSUMPTION, 12, "assumption"),
    ("lecture_cross_entropy_gradient.tex", "&= s_j - y_j", "&= s_j - y_j + s_j", TERM, None, "term"),
    ("lecture_cross_entropy_gradient.tex", "&= -\\sum_{i=1}^C \\frac{y_i}{s_i}", "&= -\\sum_{i=1}^C \\frac{y_i}{s_j}", INDEX, None, None),
    ("lecture_cross_entropy_gradient.tex", "y_i \\cdot s_j - \\sum_{i=1}^C", "y_i \\cdot s_j - \\sum_{i=2}^C", RANGE, None, None),
    # lecture 001: log-sum-exp form
    ("lecture_logsumexp.tex", "&= \\log \\sum_{k=1}^q \\exp(o_k) - \\sum_{j=1}^q y_j o_j \\\\", "&= \\log \\sum_{k=1}^q \\exp(o_k) + \\sum_{j=1}^q y_j o_j \\\\", SIGN, None, None),
    ("lecture_logsumexp.tex", "% gradproof: assume \\sum_{j=1}^{q} y_j = 1\n", "", ASSUMPTION, 8, "assumption"),
    ("lecture_logsumexp.tex", "&= \\text{softmax}(\\mathbf{o})_j - y_j", "&= \\text{softmax}(\\mathbf{o})_j - 2 y_j", FACTOR, None, None),
    ("lecture_logsumexp.tex", "\\frac{\\exp(o_j)}{\\sum_{k=1}^q \\exp(o_k)} - y_j", "\\frac{\\exp(o_j)}{\\sum_{k=1}^q \\exp(o_k)} - y_k", INDEX, None, None),
    # lecture 002: KL decomposition
    ("lecture_kl_decomposition.tex", "&= - \\sum_{i=1}^{n} p_i \\log p_i - \\sum_{i=1}^{n} p_i", "&= - \\sum_{i=1}^{n} p_i \\log p_i + \\sum_{i=1}^{n} p_i", SIGN, None, None),
    ("lecture_kl_decomposition.tex", "\\log \\left[ \\frac{p_i}{p_i} q_i \\right]", "\\log \\left[ \\frac{p_i}{q_i} q_i \\right]", INDEX, None, None),
    ("lecture_kl_decomposition.tex", "% gradproof: assume q_i > 0\n", "", ASSUMPTION, 10, "assumption"),
    # lecture 002: L2 and L1 regularisation
    ("lecture_l2_regularization.tex", "&= \\lambda w_k \\\\", "&= 2 \\lambda w_k \\\\", FACTOR, None, "factor"),
    ("lecture_l2_regularization.tex", "&= (1 - \\alpha\\lambda) w_k - \\alpha g_k", "&= (1 + \\alpha\\lambda) w_k - \\alpha g_k", SIGN, None, None),
    ("lecture_l2_regularization.tex", "\\sum_{j=0}^{P-1} 2 w_j \\delta_{jk}", "\\sum_{j=1}^{P-1} 2 w_j \\delta_{jk}", RANGE, None, None),
    ("lecture_l1_regularization.tex", "&= \\frac{\\lambda}{2} \\operatorname{sign}(w_k)", "&= \\lambda \\operatorname{sign}(w_k)", FACTOR, None, "factor"),
    ("lecture_l1_regularization.tex", "&= \\frac{\\lambda}{2} \\sum_{j=1}^{P} |w_j|", "&= \\frac{\\lambda}{2} \\sum_{j=1}^{P} w_j", TERM, None, None),
    # lecture 003: stable softmax, chain rule, squared error
    ("lecture_stable_softmax.tex", "e^{a_i + \\log(C)}", "e^{a_i - \\log(C)}", SIGN, None, None),
    ("lecture_training_memory.tex", "% gradproof: assume B \\in \\mathbb{N}\n", "", ASSUMPTION, 8, None),
    ("lecture_ce_chain_rule.tex", "&= p_i - y_i", "&= y_i - p_i", SIGN, None, "sign"),
    ("lecture_ce_chain_rule.tex", "p_k (\\delta_{ki} - p_i)", "p_k (\\delta_{ki} - p_k)", INDEX, None, "indices"),
    ("lecture_ce_chain_rule.tex", "% gradproof: assume \\sum_{k=1}^{n} y_k = 1\n", "", ASSUMPTION, 10, "assumption"),
    ("lecture_squared_error.tex", "&= -2 x_k (y - w^T x)", "&= -x_k (y - w^T x)", FACTOR, None, "factor"),
    ("lecture_squared_error.tex", "\\nabla_w e &= -2 (y - w^T x) x", "\\nabla_w e &= 2 (y - w^T x) x", SIGN, None, "sign"),
    # lecture 004: single neuron, memory
    ("lecture_single_neuron.tex", " &= -(y - \\hat{y}) x \\\\", " &= (y - \\hat{y}) x \\\\", SIGN, None, "sign"),
    ("lecture_single_neuron.tex", "w - \\frac{d\\mathcal{L}}{dw} &= w + (y - \\hat{y}) x", "w - \\frac{d\\mathcal{L}}{dw} &= w + (y - \\hat{y})", TERM, None, None),
    ("lecture_mlp_parameter_count.tex", "&= 26", "&= 24", TERM, None, None),
    ("lecture_training_memory.tex", "&= P b (2 + B)", "&= P b (1 + B)", TERM, None, None),
    # standard texts
    ("std_sigmoid_derivative.tex", "&= \\sigma(z)(1 - \\sigma(z)) \\\\", "&= \\sigma(z)(1 + \\sigma(z)) \\\\", SIGN, None, None),
    ("std_sigmoid_derivative.tex", "\\frac{d}{dz} \\sigma(z) &= \\frac{e^{-z}}{(1 + e^{-z})^2}", "\\frac{d}{dz} \\sigma(z) &= \\frac{e^{-z}}{1 + e^{-z}}", TERM, None, None),
    ("std_tanh_derivative.tex", "&= 2\\sigma(2x) - 1", "&= 2\\sigma(x) - 1", FACTOR, None, None),
    ("std_tanh_derivative.tex", "\\frac{d}{dx} \\tanh(x) &= 1 - \\tanh^2(x)", "\\frac{d}{dx} \\tanh(x) &= 1 + \\tanh^2(x)", SIGN, None, None),
    ("std_bce_logit_gradient.tex", "&= \\sigma(z) - y", "&= \\sigma(z) + y", SIGN, None, None),
    ("notes_softmax_ce_cases.md", "<!-- gradproof: assume \\sum_{i=1}^{n} y_i = 1 -->\n", "", ASSUMPTION, 15, "assumption"),
    ("std_softmax_shift.tex", "&= \\frac{e^{c} e^{z_i}}{e^{c} \\sum_{k=1}^{n} e^{z_k}}", "&= \\frac{e^{c} e^{z_i}}{\\sum_{k=1}^{n} e^{z_k}}", FACTOR, None, None),
    ("std_logsumexp_gradient.tex", "&= \\frac{e^{z_j}}{\\sum_{k=1}^{n} e^{z_k}}", "&= \\frac{e^{z_j}}{\\sum_{k=2}^{n} e^{z_k}}", RANGE, None, None),
    ("std_l2_norm_gradient.tex", "\\nabla_w \\frac{\\lambda}{2} \\|w\\|_2^2 &= \\lambda w", "\\nabla_w \\frac{\\lambda}{2} \\|w\\|_2^2 &= \\frac{\\lambda}{2} w", FACTOR, None, "factor"),
    ("std_l2_norm_gradient.tex", "&= \\sum_{j=1}^{d} w_j \\delta_{jk}", "&= \\sum_{j=1}^{d-1} w_j \\delta_{jk}", RANGE, None, None),
    ("std_dropout.tex", "&= p a \\\\", "&= a \\\\", FACTOR, None, None),
    ("std_dropout.tex", "% gradproof: random m \\sim \\mathrm{Bernoulli}(p)\n", "% gradproof: random m\n", ASSUMPTION, 4, None),
    ("std_bias_variance.tex", "&= (\\mathbb{E}[M] - f)^2 + \\operatorname{Var}[M] + s", "&= (\\mathbb{E}[M] - f)^2 + \\operatorname{Var}[M]", TERM, None, None),
    ("std_bias_variance.tex", "(f - \\mathbb{E}[M])^2 + \\mathbb{E}[\\varepsilon^2]", "(f - \\mathbb{E}[M])^2 - \\mathbb{E}[\\varepsilon^2]", SIGN, None, None),
    ("std_bernoulli_moments.tex", "&= p - p^2 \\\\", "&= p - 2p^2 \\\\", FACTOR, None, None),
    ("std_bernoulli_moments.tex", "&\\le \\frac{1}{4}", "&\\le \\frac{1}{5}", TERM, None, None),
    ("std_two_layer_chain_rule.tex", "&= (\\hat{y} - y) w_2 (1 - h^2) x", "&= (\\hat{y} - y) w_2 (1 - h) x", TERM, None, None),
    ("std_two_layer_chain_rule.tex", "\\frac{\\partial L}{\\partial w_2} &= (\\hat{y} - y) h", "\\frac{\\partial L}{\\partial w_2} &= (y - \\hat{y}) h", SIGN, None, "sign"),
    ("std_quadratic_form.tex", "&= \\sum_{j=1}^{n} (A_{kj} + A_{jk}) x_j", "&= \\sum_{j=1}^{n} 2 A_{kj} x_j", INDEX, None, None),
    ("std_gaussian_mle.tex", "&= \\frac{1}{s} \\left( \\sum_{i=1}^{N} x_i - N \\mu \\right)", "&= \\frac{1}{s} \\left( \\sum_{i=1}^{N} x_i - \\mu \\right)", TERM, None, None),
    ("std_gaussian_mle.tex", "% gradproof: assume s > 0\n", "", ASSUMPTION, 9, "assumption"),
    ("std_perceptron_update.tex", "&= w_k + \\eta (y - \\hat{y}) x_k", "&= w_k + \\eta (\\hat{y} - y) x_k", SIGN, None, None),
    ("std_relu_derivative.tex", "x \\theta(x) &= \\max(0, x)", "x \\theta(x) &= x", TERM, None, None),
    ("std_batch_mean_gradient.tex", "&= \\frac{1}{N} \\sum_{a=1}^{N} X_{ak} r_a", "&= \\sum_{a=1}^{N} X_{ak} r_a", FACTOR, None, "factor"),
    ("std_attention_softmax_temperature.tex", "&= \\frac{1}{T} q_i (\\delta_{ij} - q_j)", "&= q_i (\\delta_{ij} - q_j)", FACTOR, None, None),
    ("std_weight_decay_equivalence.tex", "&= w_k - \\eta g_k - \\eta \\lambda w_k", "&= w_k - \\eta g_k - \\lambda w_k", FACTOR, None, None),
    ("std_logistic_odds.tex", "1 - \\sigma(z) &= \\sigma(-z)", "1 - \\sigma(z) &= \\sigma(z)", SIGN, None, None),
    # public-notes style (Markdown)
    ("notes_softmax_ce_cases.md", "&= - y_k (1 - p_k) + \\sum_{i\\neq k} y_i p_k", "&= - y_k (1 - p_k) + \\sum_{i} y_i p_k", RANGE, None, None),
    ("notes_softmax_ce_cases.md", "&= p_k - y_k", "&= p_k - y_k + 1", TERM, None, None),
    ("notes_softmax_jacobian.md", "$$= y_i \\cdot (1 - y_i)$$", "$$= y_i \\cdot (1 + y_i)$$", SIGN, None, None),
    ("notes_softmax_jacobian.md", "$$\\frac{\\partial y_i}{\\partial x_j} = y_i \\cdot (\\delta_{ij} - y_j)$$", "$$\\frac{\\partial y_i}{\\partial x_j} = y_i \\cdot (\\delta_{ij} - y_i)$$", INDEX, None, "indices"),
    ("notes_ce_sum_upper_only.md", "= \\sum_j^C y_j (p_i -\\delta_{ij})", "= \\sum_j^C y_j (\\delta_{ij} - p_i)", SIGN, None, None),
    ("notes_sigmoid_blocks.md", "$$= -(1+e^{-z})^{-2} \\cdot (-e^{-z})$$", "$$= -(1+e^{-z})^{-2} \\cdot e^{-z}$$", SIGN, None, "sign"),
    # claims true only for small sizes (every index value up to 4 hides the slip)
    ("lecture_softmax_jacobian.tex", "&= 1\\{i = j\\} - s_j \\\\", "&= 1\\{i = j\\} - s_j + \\binom{n-1}{4} \\\\", SMALL, None, None),
    ("lecture_cross_entropy_gradient.tex", "&= s_j - y_j", "&= s_j - y_j + \\prod_{k=1}^{4} (C - k)", SMALL, None, None),
    ("std_batch_mean_gradient.tex", "&= \\frac{1}{N} \\sum_{a=1}^{N} X_{ak} r_a", "&= \\frac{1}{N} \\sum_{a=1}^{\\min(N, 4)} X_{ak} r_a", SMALL, None, None),
    ("lecture_l2_regularization.tex", "&= \\lambda w_k \\\\", "&= \\lambda w_k + \\binom{P - 1}{5} w_k \\\\", SMALL, None, None),
]
