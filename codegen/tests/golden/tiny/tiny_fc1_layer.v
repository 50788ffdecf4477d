`default_nettype none
// tiny_fc1_layer: layer "fc1", 5 inputs -> 3 LIF neurons, event-driven and
// accumulate-only.
//
// One timestep: (1) accept the input spike bitmap (in_valid/in_ready), currents := bias;
// (2) the scanner streams the addresses of active inputs; each address reads weight words
//     of 2 weights (2 word(s) per address) that are added into the currents;
// (3) neuron phase: 2 cycle(s) of 2 neurons each; potentials and spikes rotate by
//     2 places per cycle and are back in order afterwards, the currents stay and are read
//     group by group;
// (4) push the output spike bitmap (out_valid/out_ready), keep s[t] for the next reset.
// Padded neurons 3..3 have no weights and zero bias and never fire.
module tiny_fc1_layer (
    input  wire clk,
    input  wire rst,
    input  wire in_valid,
    output wire in_ready,
    input  wire [4:0] in_spikes,
    input  wire in_first,
    input  wire in_last,
    output wire out_valid,
    input  wire out_ready,
    output wire [2:0] out_spikes,
    output wire out_first,
    output wire out_last
);
    localparam [1:0] S_IDLE = 2'd0, S_ACC = 2'd1, S_NEUR = 2'd2, S_OUT = 2'd3;
    // Biases, one word of 5 bits per neuron (padding included) from tiny_fc1_bias.hex;
    // mem2reg: Yosys folds the constant words into the logic (no memory cells).
    (* mem2reg *) reg [4:0] bias_rom [0:3];
    initial $readmemh("tiny_fc1_bias.hex", bias_rom);

    reg [1:0] state_q;
    reg first_q;
    reg last_q;
    reg out_valid_q;
    reg out_first_q;
    reg out_last_q;
    reg [2:0] out_spikes_q;
    reg [0:0] k_q;

    assign in_ready = (state_q == S_IDLE);
    wire start = in_valid && (state_q == S_IDLE);
    wire can_push = !out_valid_q || out_ready;
    // High for the one cycle in which v/s hold this timestep's final values (testbench trace).
    wire step_commit = (state_q == S_OUT) && can_push;
    wire neur_last = (k_q == 1'd1);

    // ---- spike-address scanner ----
    wire scan_valid;
    wire scan_ready;
    wire scan_busy;
    wire [3:0] scan_addr;
    tiny_fc1_scanner u_scan (
        .clk(clk), .rst(rst), .start(start), .bits(in_spikes),
        .addr_valid(scan_valid), .addr_ready(scan_ready), .addr(scan_addr), .busy(scan_busy)
    );

    // ---- weight memory: word (address, group) holds 2 weights of 4 bits ----
    reg [7:0] wmem [0:31];
    initial $readmemh("tiny_fc1_weights.hex", wmem);
    reg [7:0] wdata_q;
    reg rd_valid_q;
    reg [0:0] g_q;
    wire [4:0] waddr = {scan_addr, g_q};
    assign scan_ready = (g_q == 1'd1);
    always @(posedge clk) begin
        if (scan_valid) wdata_q <= wmem[waddr];
    end
    always @(posedge clk) begin
        if (rst) begin
            rd_valid_q <= 1'b0;
            g_q <= 1'd0;
        end else begin
            rd_valid_q <= scan_valid;
            if (scan_valid) g_q <= scan_ready ? 1'd0 : g_q + 1'd1;
        end
    end
    wire hit = rd_valid_q;   // wdata_q holds a weight word to add

    // ---- per-neuron state: currents, potentials, spikes ----
    wire [19:0] acc_flat;
    wire [31:0] v_flat;
    wire [3:0] s_flat;
    wire [15:0] v_new;
    wire [1:0] s_new;
    wire clear = start && in_first;   // v[-1] = 0, s[-1] = 0 at the first step of an inference
    wire rotate = (state_q == S_NEUR);

    // Currents of the 2 neurons in the neuron unit: group k_q of the (unrotated) currents.
    reg [9:0] cur_sel;
    always @(*) begin
        case (k_q)
            1'd0: cur_sel = acc_flat[9:0];
            1'd1: cur_sel = acc_flat[19:10];
            default: cur_sel = 10'd0;
        endcase
    end

    tiny_fc1_lif u_lif (
        .v_in(v_flat[15:0]),
        .s_in(s_flat[1:0]),
        .cur_in(cur_sel),
        .v_out(v_new),
        .s_out(s_new)
    );

    genvar i;
    generate
        for (i = 0; i < 4; i = i + 1) begin : g_n
            reg signed [7:0] v_q;
            reg s_q;
            assign v_flat[i*8 +: 8] = v_q;
            assign s_flat[i] = s_q;
            // Neuron-phase rotation source: the next group's state, or the neuron unit's result
            // for the top group.
            wire signed [7:0] v_next;
            wire s_next;
            if (i < 2) begin : g_mid
                assign v_next = v_flat[(i+2)*8 +: 8];
                assign s_next = s_flat[i+2];
            end else begin : g_top
                assign v_next = v_new[(i-2)*8 +: 8];
                assign s_next = s_new[i-2];
            end
            // Currents: a ring of 4 accumulators. Each weight word shifts it down by
            // 2 places while the 2 adders add the word's lanes into the bottom
            // group, whose sums enter at the top; after the 2 word(s) of an input the ring
            // is back in place. Neurons 4.. (padding) have no current.
            if (i < 4) begin : g_acc
                reg signed [4:0] acc_q;
                assign acc_flat[i*5 +: 5] = acc_q;
                wire signed [4:0] acc_d;
                if (i >= 2) begin : g_add
                    wire signed [3:0] w = wdata_q[(i-2)*4 +: 4];
                    wire signed [4:0] a = acc_flat[(i-2)*5 +: 5];
                    assign acc_d = a + { { 1{w[3]} }, w };
                end else begin : g_shift
                    assign acc_d = acc_flat[(i+2)*5 +: 5];
                end
                // Reset and the start of a step both load the bias: a constant once Yosys folds
                // the ROM, so the flip-flops' synchronous set/reset pins do it without a LUT.
                always @(posedge clk) begin
                    if (rst || start) acc_q <= bias_rom[i];
                    else if (hit) acc_q <= acc_d;
                end
            end else begin : g_nocur
                assign acc_flat[i*5 +: 5] = 5'sd0;
            end
            always @(posedge clk) begin
                if (rst || clear) begin
                    v_q <= 8'sd0;
                    s_q <= 1'b0;
                end else if (rotate) begin
                    v_q <= v_next;
                    s_q <= s_next;
                end
            end
        end
    endgenerate

    // ---- control ----
    always @(posedge clk) begin
        if (rst) begin
            state_q <= S_IDLE;
            first_q <= 1'b0;
            last_q <= 1'b0;
            out_valid_q <= 1'b0;
            out_first_q <= 1'b0;
            out_last_q <= 1'b0;
            out_spikes_q <= 3'd0;
            k_q <= 1'd0;
        end else begin
            if (out_valid_q && out_ready) out_valid_q <= 1'b0;
            case (state_q)
                S_IDLE: if (in_valid) begin
                    first_q <= in_first;
                    last_q <= in_last;
                    state_q <= S_ACC;
                end
                S_ACC: if (!scan_busy) state_q <= S_NEUR;
                S_NEUR: begin
                    k_q <= neur_last ? 1'd0 : k_q + 1'd1;
                    if (neur_last) state_q <= S_OUT;
                end
                default: if (can_push) begin
                    out_valid_q <= 1'b1;
                    out_first_q <= first_q;
                    out_last_q <= last_q;
                    out_spikes_q <= s_flat[2:0];
                    state_q <= S_IDLE;
                end
            endcase
        end
    end
    wire unused_pad = &{1'b0, s_flat[3:3]};
    wire unused_commit = step_commit;
    assign out_valid = out_valid_q;
    assign out_spikes = out_spikes_q;
    assign out_first = out_first_q;
    assign out_last = out_last_q;
endmodule
`default_nettype wire
