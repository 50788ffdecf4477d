`default_nettype none
// tiny_fc2_lif: 2 LIF neurons of layer "fc2" updated in parallel (the
// neuron phase of one timestep). Purely combinational; implements docs/numeric-contract.md:
//   rule snntorch, reset zero, leak (v * 3) >>> 2, theta 9,
//   membrane 8 bits.
// Every operand is signed and 11 bits wide, so no intermediate sum wraps before `sat`.
module tiny_fc2_lif (
    input  wire [15:0] v_in,
    input  wire [1:0] s_in,
    input  wire [9:0] cur_in,
    output wire [15:0] v_out,
    output wire [1:0] s_out
);
    localparam signed [10:0] VMAX = 11'sd127;
    localparam signed [10:0] VMIN = -11'sd128;
    localparam signed [10:0] THETA = 11'sd9;
    localparam signed [10:0] ZERO = 11'sd0;

    // Clamp to the membrane width [VMIN, VMAX] = [-2^7, 2^7 - 1]: x is in range exactly when
    // its bits 10..7 are all equal (a sign check, no magnitude comparators).
    function signed [7:0] sat;
        input signed [10:0] x;
        begin
            if (x[10:7] == { 4{x[10]} }) sat = x[7:0];
            else if (x[10]) sat = VMIN[7:0];
            else sat = VMAX[7:0];
        end
    endfunction

    genvar i;
    generate
        for (i = 0; i < 2; i = i + 1) begin : g_neuron
            wire signed [7:0] v = v_in[i*8 +: 8];
            wire signed [4:0] cur = cur_in[i*5 +: 5];
            wire signed [10:0] v_w = { { 3{v[7]} }, v };
            wire signed [10:0] cur_w = { { 6{cur[4]} }, cur };
            wire signed [10:0] in_w = cur_w;
            // leak(v) = (v * beta_q) >>> f
            wire signed [28:0] prod = { { 18{v_w[10]} }, v_w } * 29'sd3;
            wire signed [28:0] prod_sh = prod >>> 2;
            wire signed [10:0] leaked = prod_sh[10:0];
            wire unused_prod = &{1'b0, prod_sh[28:11]};
            // snnTorch: the reset uses the previous step's spike r = s[t-1]; fire on v > theta.
            wire r = s_in[i];
            // leak(0) = 0 for every leak kind.
            wire signed [10:0] sum = (r ? ZERO : leaked) + in_w;
            wire signed [7:0] nv = sat(sum);
            wire signed [10:0] nv_w = { { 3{nv[7]} }, nv };
            assign v_out[i*8 +: 8] = nv;
            assign s_out[i] = nv_w > THETA;
        end
    endgenerate
endmodule
`default_nettype wire
