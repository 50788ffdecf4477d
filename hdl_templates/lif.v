`default_nettype none
// {{ h.p }}_{{ l.name }}_lif: {{ l.nu }} LIF neurons of layer "{{ l.name }}" updated in parallel (the
// neuron phase of one timestep). Purely combinational; implements docs/numeric-contract.md:
//   rule {{ l.rule_name }}, reset {{ l.reset_name }}, leak {{ l.leak_desc }}, theta {{ l.theta }},
//   membrane {{ l.mb }} bits{% if l.syn %}, synaptic current leak {{ l.syn_leak_desc }}{% endif %}.
// Every operand is signed and {{ l.w }} bits wide, so no intermediate sum wraps before `sat`.
module {{ h.p }}_{{ l.name }}_lif (
    input  wire [{{ l.nu * l.mb - 1 }}:0] v_in,
{%- if l.syn %}
    input  wire [{{ l.nu * l.mb - 1 }}:0] syn_in,
    output wire [{{ l.nu * l.mb - 1 }}:0] syn_out,
{%- endif %}
    input  wire [{{ l.nu - 1 }}:0] s_in,
    input  wire [{{ l.nu * l.ab - 1 }}:0] cur_in,
    output wire [{{ l.nu * l.mb - 1 }}:0] v_out,
    output wire [{{ l.nu - 1 }}:0] s_out
);
    localparam signed [{{ l.w - 1 }}:0] VMAX = {{ l.w }}'sd{{ l.vmax }};
    localparam signed [{{ l.w - 1 }}:0] VMIN = -{{ l.w }}'sd{{ l.vmin_abs }};
    localparam signed [{{ l.w - 1 }}:0] THETA = {{ l.w }}'sd{{ l.theta }};
{%- if l.uses_zero %}
    localparam signed [{{ l.w - 1 }}:0] ZERO = {{ l.w }}'sd0;
{%- endif %}

    // Clamp to the membrane width [VMIN, VMAX] = [-2^{{ l.mb - 1 }}, 2^{{ l.mb - 1 }} - 1]: x is in range exactly when
    // its bits {{ l.w - 1 }}..{{ l.mb - 1 }} are all equal (a sign check, no magnitude comparators).
    function signed [{{ l.mb - 1 }}:0] sat;
        input signed [{{ l.w - 1 }}:0] x;
        begin
            if (x[{{ l.w - 1 }}:{{ l.mb - 1 }}] == { {{ l.w - l.mb + 1 }}{x[{{ l.w - 1 }}]} }) sat = x[{{ l.mb - 1 }}:0];
            else if (x[{{ l.w - 1 }}]) sat = VMIN[{{ l.mb - 1 }}:0];
            else sat = VMAX[{{ l.mb - 1 }}:0];
        end
    endfunction

    genvar i;
    generate
        for (i = 0; i < {{ l.nu }}; i = i + 1) begin : g_neuron
            wire signed [{{ l.mb - 1 }}:0] v = v_in[i*{{ l.mb }} +: {{ l.mb }}];
            wire signed [{{ l.ab - 1 }}:0] cur = cur_in[i*{{ l.ab }} +: {{ l.ab }}];
            wire signed [{{ l.w - 1 }}:0] v_w = { { {{ l.w - l.mb }}{v[{{ l.mb - 1 }}]} }, v };
            wire signed [{{ l.w - 1 }}:0] cur_w = { { {{ l.w - l.ab }}{cur[{{ l.ab - 1 }}]} }, cur };
{%- if l.syn %}
            // Current-based LIF: syn[t] = sat(leak_syn(syn[t-1]) + I[t]) feeds the membrane.
            wire signed [{{ l.mb - 1 }}:0] syn = syn_in[i*{{ l.mb }} +: {{ l.mb }}];
            wire signed [{{ l.w - 1 }}:0] syn_w = { { {{ l.w - l.mb }}{syn[{{ l.mb - 1 }}]} }, syn };
{%- match l.syn_leak %}
{%- when LeakHw::None %}
            wire signed [{{ l.w - 1 }}:0] syn_leaked = syn_w;
{%- when LeakHw::Shift with (k) %}
            wire signed [{{ l.w - 1 }}:0] syn_leaked = syn_w - (syn_w >>> {{ k }});
{%- when LeakHw::Multiply with (bq, f) %}
            wire signed [{{ l.w + 18 - 1 }}:0] syn_prod = { { 18{syn_w[{{ l.w - 1 }}]} }, syn_w } * {{ l.w + 18 }}'sd{{ bq }};
            wire signed [{{ l.w + 18 - 1 }}:0] syn_prod_sh = syn_prod >>> {{ f }};
            wire signed [{{ l.w - 1 }}:0] syn_leaked = syn_prod_sh[{{ l.w - 1 }}:0];
            wire unused_syn_prod = &{1'b0, syn_prod_sh[{{ l.w + 18 - 1 }}:{{ l.w }}]};
{%- endmatch %}
            wire signed [{{ l.mb - 1 }}:0] syn_new = sat(syn_leaked + cur_w);
            wire signed [{{ l.w - 1 }}:0] in_w = { { {{ l.w - l.mb }}{syn_new[{{ l.mb - 1 }}]} }, syn_new };
            assign syn_out[i*{{ l.mb }} +: {{ l.mb }}] = syn_new;
{%- else %}
            wire signed [{{ l.w - 1 }}:0] in_w = cur_w;
{%- endif %}
{%- match l.leak %}
{%- when LeakHw::None %}
            wire signed [{{ l.w - 1 }}:0] leaked = v_w;
{%- when LeakHw::Shift with (k) %}
            // leak(v) = v - (v >>> k): arithmetic shift, rounds toward minus infinity.
            wire signed [{{ l.w - 1 }}:0] leaked = v_w - (v_w >>> {{ k }});
{%- when LeakHw::Multiply with (bq, f) %}
            // leak(v) = (v * beta_q) >>> f
            wire signed [{{ l.w + 18 - 1 }}:0] prod = { { 18{v_w[{{ l.w - 1 }}]} }, v_w } * {{ l.w + 18 }}'sd{{ bq }};
            wire signed [{{ l.w + 18 - 1 }}:0] prod_sh = prod >>> {{ f }};
            wire signed [{{ l.w - 1 }}:0] leaked = prod_sh[{{ l.w - 1 }}:0];
            wire unused_prod = &{1'b0, prod_sh[{{ l.w + 18 - 1 }}:{{ l.w }}]};
{%- endmatch %}
{%- if l.rule_sj %}
            // SpikingJelly: h = sat(leak(v) + I); fire on h >= theta; reset in the same step.
            wire unused_s = s_in[i];
            wire signed [{{ l.mb - 1 }}:0] h = sat(leaked + in_w);
            wire signed [{{ l.w - 1 }}:0] h_w = { { {{ l.w - l.mb }}{h[{{ l.mb - 1 }}]} }, h };
            wire fire = h_w >= THETA;
{%- match l.reset %}
{%- when ResetHw::Subtract %}
            wire signed [{{ l.w - 1 }}:0] after = fire ? h_w - THETA : h_w;
{%- when ResetHw::Zero %}
            wire signed [{{ l.w - 1 }}:0] after = fire ? ZERO : h_w;
{%- when ResetHw::None %}
            wire signed [{{ l.w - 1 }}:0] after = h_w;
{%- endmatch %}
            assign v_out[i*{{ l.mb }} +: {{ l.mb }}] = after[{{ l.mb - 1 }}:0];
            wire unused_after = &{1'b0, after[{{ l.w - 1 }}:{{ l.mb }}]};
            assign s_out[i] = fire;
{%- else %}
            // snnTorch: the reset uses the previous step's spike r = s[t-1]; fire on v > theta.
            wire r = s_in[i];
{%- match l.reset %}
{%- when ResetHw::Subtract %}
            wire signed [{{ l.w - 1 }}:0] sum = leaked + in_w - (r ? THETA : ZERO);
{%- when ResetHw::Zero %}
            // leak(0) = 0 for every leak kind.
            wire signed [{{ l.w - 1 }}:0] sum = (r ? ZERO : leaked) + in_w;
{%- when ResetHw::None %}
            wire unused_r = r;
            wire signed [{{ l.w - 1 }}:0] sum = leaked + in_w;
{%- endmatch %}
            wire signed [{{ l.mb - 1 }}:0] nv = sat(sum);
            wire signed [{{ l.w - 1 }}:0] nv_w = { { {{ l.w - l.mb }}{nv[{{ l.mb - 1 }}]} }, nv };
            assign v_out[i*{{ l.mb }} +: {{ l.mb }}] = nv;
            assign s_out[i] = nv_w > THETA;
{%- endif %}
        end
    endgenerate
endmodule
`default_nettype wire
