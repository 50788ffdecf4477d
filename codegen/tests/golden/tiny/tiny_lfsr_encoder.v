`default_nettype none
// tiny_lfsr_encoder: on-chip rate encoder, bit-exact with kernels::encode::lfsr_encode
// (docs/numeric-contract.md, "LFSR rate encoder"). 2 lanes of 32-bit xorshift
// (x ^= x << 13; x ^= x >> 17; x ^= x << 5); pixel p = g*2 + l spikes when
// pixel[p] > (x_l >> 24) after the lane's step. The lane seeds are derived from seed 7
// by the Rust golden model at generation time.
// 1 xorshift units serve the 2 lanes in 2 phases: the lane states form a ring that
// shifts down by 1 lanes per cycle, the units step the bottom 1 lanes and their results
// enter at the top; after the 2 phases of a group the ring is back in place.
//
// Input: one AXI4-Stream beat per group of 2 pixels (byte l = pixel g*2 + l), 3
// beats per image. Then 4 timesteps, each 6 + 2 cycles at best, each pushed as a
// 5-bit spike bitmap (out_first on step 0, out_last on step 3).
module tiny_lfsr_encoder (
    input  wire clk,
    input  wire rst,
    input  wire [15:0] s_data,
    input  wire s_valid,
    output wire s_ready,
    output wire out_valid,
    input  wire out_ready,
    output wire [4:0] out_spikes,
    output wire out_first,
    output wire out_last
);
    localparam [1:0] E_LOAD = 2'd0, E_RUN = 2'd1, E_PUSH = 2'd2;
    localparam [63:0] SEEDS = 64'h737a208a2316a329;

    reg [1:0] state_q;
    reg [1:0] wg_q;     // group written by the next input beat
    reg [1:0] rg_q;    // group read next (== 3: all read)
    reg [0:0] ph_q;     // phase of the next read
    reg [0:0] rd_ph_q;  // phase of the word in pword_q
    reg [1:0] step_q;
    reg rd_valid_q;
    reg [15:0] pword_q;
    reg [63:0] x_q;
    reg [5:0] bits_q;
    (* ram_style = "block" *)
    reg [15:0] pmem [0:3];

    assign s_ready = (state_q == E_LOAD);
    assign out_valid = (state_q == E_PUSH);
    assign out_spikes = bits_q[4:0];
    assign out_first = (step_q == 2'd0);
    assign out_last = (step_q == 2'd3);
    wire unused_pad = &{1'b0, bits_q[5:5]};

    // Pixels of the 1 lanes stepped this cycle.
    reg [7:0] pdata;
    always @(*) begin
        case (rd_ph_q)
            1'd0: pdata = pword_q[7:0];
            1'd1: pdata = pword_q[15:8];
            default: pdata = 8'd0;
        endcase
    end
    wire [31:0] x_next;
    wire [0:0] spk;
    genvar l;
    generate
        for (l = 0; l < 1; l = l + 1) begin : g_lane
            wire [31:0] x0 = x_q[l*32 +: 32];
            wire [31:0] x1 = x0 ^ (x0 << 13);
            wire [31:0] x2 = x1 ^ (x1 >> 17);
            wire [31:0] x3 = x2 ^ (x2 << 5);
            assign x_next[l*32 +: 32] = x3;
            assign spk[l] = pdata[l*8 +: 8] > x3[31:24];
        end
    endgenerate

    wire read = (state_q == E_RUN) && (rg_q != 2'd3);
    wire read_word = read && (ph_q == 1'd0);
    wire ph_last = (ph_q == 1'd1);
    always @(posedge clk) begin
        if (s_valid && s_ready) pmem[wg_q] <= s_data;
        if (read_word) pword_q <= pmem[rg_q[1:0]];
    end

    always @(posedge clk) begin
        if (rst) begin
            state_q <= E_LOAD;
            wg_q <= 2'd0;
            rg_q <= 2'd0;
            ph_q <= 1'd0;
            rd_ph_q <= 1'd0;
            step_q <= 2'd0;
            rd_valid_q <= 1'b0;
            x_q <= SEEDS;
            bits_q <= 6'd0;
        end else begin
            rd_valid_q <= read;
            if (read) rd_ph_q <= ph_q;
            if (rd_valid_q) begin
                x_q <= {x_next, x_q[63:32]};
                bits_q <= {spk, bits_q[5:1]};
            end
            case (state_q)
                E_LOAD: if (s_valid) begin
                    if (wg_q == 2'd2) begin
                        wg_q <= 2'd0;
                        rg_q <= 2'd0;
                        step_q <= 2'd0;
                        x_q <= SEEDS;     // every image starts from the seeds
                        state_q <= E_RUN;
                    end else begin
                        wg_q <= wg_q + 2'd1;
                    end
                end
                E_RUN: if (rg_q == 2'd3) state_q <= E_PUSH;
                       else if (ph_last) begin
                           ph_q <= 1'd0;
                           rg_q <= rg_q + 2'd1;
                       end else ph_q <= ph_q + 1'd1;
                default: if (out_ready) begin
                    rg_q <= 2'd0;
                    if (out_last) begin
                        state_q <= E_LOAD;
                    end else begin
                        step_q <= step_q + 2'd1;
                        state_q <= E_RUN;
                    end
                end
            endcase
        end
    end
endmodule
`default_nettype wire
