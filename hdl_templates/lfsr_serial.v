`default_nettype none
// {{ h.p }}_lfsr_encoder (serial, for --arch mem): on-chip rate encoder, bit-exact with
// kernels::encode::lfsr_encode (docs/numeric-contract.md, "LFSR rate encoder"), computing one
// pixel per cycle with one xorshift unit: {{ e.lanes }} lanes of 32-bit xorshift
// (x ^= x << 13; x ^= x >> 17; x ^= x << 5); pixel p = g*{{ e.lanes }} + l spikes when
// pixel[p] > (x_l >> 24) after the lane's step. Lane states live in a small RAM; a "fresh" bit per
// lane substitutes the lane's seed (derived from seed {{ e.seed }} by the Rust golden model) for its
// first step of an image, so no seeding pass is needed.
//
// Input: one AXI4-Stream beat per group of {{ e.lanes }} pixels (byte l = pixel g*{{ e.lanes }} + l), {{ e.groups }}
// beats per image. Then {{ h.timesteps }} timesteps, each {{ e.run_len }} + 2 cycles at best, each pushed as a
// {{ h.inputs }}-bit spike bitmap (out_first on step 0, out_last on step {{ h.timesteps - 1 }}).
module {{ h.p }}_lfsr_encoder (
    input  wire clk,
    input  wire rst,
    input  wire [{{ e.lanes * 8 - 1 }}:0] s_data,
    input  wire s_valid,
    output wire s_ready,
    output wire out_valid,
    input  wire out_ready,
    output wire [{{ h.inputs - 1 }}:0] out_spikes,
    output wire out_first,
    output wire out_last
);
    localparam [1:0] E_LOAD = 2'd0, E_RUN = 2'd1, E_PUSH = 2'd2;

    reg [1:0] state_q;
    reg [{{ e.gw - 1 }}:0] wg_q;     // group written by the next input beat
    reg [{{ e.gw - 1 }}:0] g_q;      // group read next
    reg [{{ e.lw - 1 }}:0] l_q;      // lane read next
    reg [{{ e.lw - 1 }}:0] ld_q;     // lane of the data read last cycle
    reg rd_done_q;                   // all {{ e.run_len }} pixels of this step read
    reg [{{ h.tw - 1 }}:0] step_q;
    reg rd_valid_q;
    reg [{{ e.lanes * 8 - 1 }}:0] pdata_q;
    reg [{{ e.lanes - 1 }}:0] fresh_q;
    reg [{{ e.run_len - 1 }}:0] bits_q;
    reg [{{ e.lanes * 8 - 1 }}:0] pmem [0:{{ e.depth - 1 }}];

    assign s_ready = (state_q == E_LOAD);
    assign out_valid = (state_q == E_PUSH);
    assign out_spikes = bits_q[{{ h.inputs - 1 }}:0];
    assign out_first = (step_q == {{ h.tw }}'d0);
    assign out_last = (step_q == {{ h.tw }}'d{{ h.timesteps - 1 }});
{%- if e.run_len > h.inputs %}
    wire unused_pad = &{1'b0, bits_q[{{ e.run_len - 1 }}:{{ h.inputs }}]};
{%- endif %}

    wire read = (state_q == E_RUN) && !rd_done_q;

    // ---- lane states and seeds ----
    reg [31:0] seed;
    always @* begin
        case (ld_q)
{%- for s in e.seed_words %}
            {{ e.lw }}'d{{ loop.index0 }}: seed = 32'h{{ s }};
{%- endfor %}
            default: seed = 32'd0;
        endcase
    end
{%- if e.lanes > 1 %}
    // The read (lane l_q) and the write (lane ld_q, read the cycle before) never collide: l_q
    // moves on after every read and a step's first read follows a cycle without one. So no
    // read-during-write bypass is needed (no_rw_check: Yosys adds none).
    (* no_rw_check *)
    reg [31:0] xmem [0:{{ e.lanes - 1 }}];
    reg [31:0] xrd_q;
    wire [31:0] x0 = fresh_q[ld_q] ? seed : xrd_q;
{%- else %}
    reg [31:0] x_q;
    wire [31:0] x0 = fresh_q[0] ? seed : x_q;
{%- endif %}
    wire [31:0] x1 = x0 ^ (x0 << 13);
    wire [31:0] x2 = x1 ^ (x1 >> 17);
    wire [31:0] x3 = x2 ^ (x2 << 5);
    reg [7:0] pix;
    integer b;
    always @* begin
        pix = 8'd0;
        for (b = 0; b < {{ e.lanes }}; b = b + 1)
            if (ld_q == b[{{ e.lw - 1 }}:0]) pix = pdata_q[b*8 +: 8];
    end
    wire spk = pix > x3[31:24];

    always @(posedge clk) begin
        if (s_valid && s_ready) pmem[wg_q] <= s_data;
        if (read) pdata_q <= pmem[g_q];
{%- if e.lanes > 1 %}
        if (read) xrd_q <= xmem[l_q];
        if (rd_valid_q) xmem[ld_q] <= x3;
{%- endif %}
    end

    always @(posedge clk) begin
        if (rst) begin
            state_q <= E_LOAD;
            wg_q <= {{ e.gw }}'d0;
            g_q <= {{ e.gw }}'d0;
            l_q <= {{ e.lw }}'d0;
            ld_q <= {{ e.lw }}'d0;
            rd_done_q <= 1'b0;
            step_q <= {{ h.tw }}'d0;
            rd_valid_q <= 1'b0;
            fresh_q <= {{ e.lanes }}'d0;
            bits_q <= {{ e.run_len }}'d0;
{%- if e.lanes == 1 %}
            x_q <= 32'd0;
{%- endif %}
        end else begin
            rd_valid_q <= read;
            if (read) ld_q <= l_q;
            if (rd_valid_q) begin
{%- if e.run_len > 1 %}
                bits_q <= {spk, bits_q[{{ e.run_len - 1 }}:1]};
{%- else %}
                bits_q <= spk;
{%- endif %}
{%- if e.lanes > 1 %}
                fresh_q[ld_q] <= 1'b0;
{%- else %}
                fresh_q <= 1'b0;
                x_q <= x3;
{%- endif %}
            end
            if (read) begin
                if (l_q == {{ e.lw }}'d{{ e.lanes - 1 }}) begin
                    l_q <= {{ e.lw }}'d0;
                    if (g_q == {{ e.gw }}'d{{ e.groups - 1 }}) begin
                        g_q <= {{ e.gw }}'d0;
                        rd_done_q <= 1'b1;
                    end else begin
                        g_q <= g_q + {{ e.gw }}'d1;
                    end
                end else begin
                    l_q <= l_q + {{ e.lw }}'d1;
                end
            end
            case (state_q)
                E_LOAD: if (s_valid) begin
                    if (wg_q == {{ e.gw }}'d{{ e.groups - 1 }}) begin
                        wg_q <= {{ e.gw }}'d0;
                        step_q <= {{ h.tw }}'d0;
                        fresh_q <= { {{ e.lanes }}{1'b1} };   // every image starts from the seeds
                        state_q <= E_RUN;
                    end else begin
                        wg_q <= wg_q + {{ e.gw }}'d1;
                    end
                end
                E_RUN: if (rd_done_q) state_q <= E_PUSH;
                default: if (out_ready) begin
                    rd_done_q <= 1'b0;
                    if (out_last) begin
                        state_q <= E_LOAD;
                    end else begin
                        step_q <= step_q + {{ h.tw }}'d1;
                        state_q <= E_RUN;
                    end
                end
            endcase
        end
    end
endmodule
`default_nettype wire
