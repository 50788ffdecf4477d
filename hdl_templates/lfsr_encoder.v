`default_nettype none
// {{ h.p }}_lfsr_encoder: on-chip rate encoder, bit-exact with kernels::encode::lfsr_encode
// (docs/numeric-contract.md, "LFSR rate encoder"). {{ e.lanes }} lanes of 32-bit xorshift
// (x ^= x << 13; x ^= x >> 17; x ^= x << 5); pixel p = g*{{ e.lanes }} + l spikes when
// pixel[p] > (x_l >> 24) after the lane's step. The lane seeds are derived from seed {{ e.seed }}
// by the Rust golden model at generation time.
{%- if e.phases > 1 %}
// {{ e.units }} xorshift units serve the {{ e.lanes }} lanes in {{ e.phases }} phases: the lane states form a ring that
// shifts down by {{ e.units }} lanes per cycle, the units step the bottom {{ e.units }} lanes and their results
// enter at the top; after the {{ e.phases }} phases of a group the ring is back in place.
{%- endif %}
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
    localparam [{{ e.lanes * 32 - 1 }}:0] SEEDS = {{ e.lanes * 32 }}'h{{ e.seeds_hex }};

    reg [1:0] state_q;
    reg [{{ e.gw - 1 }}:0] wg_q;     // group written by the next input beat
    reg [{{ e.gw2 - 1 }}:0] rg_q;    // group read next (== {{ e.groups }}: all read)
{%- if e.phases > 1 %}
    reg [{{ e.pw - 1 }}:0] ph_q;     // phase of the next read
    reg [{{ e.pw - 1 }}:0] rd_ph_q;  // phase of the word in pword_q
{%- endif %}
    reg [{{ h.tw - 1 }}:0] step_q;
    reg rd_valid_q;
    reg [{{ e.lanes * 8 - 1 }}:0] pword_q;
    reg [{{ e.lanes * 32 - 1 }}:0] x_q;
    reg [{{ e.groups * e.lanes - 1 }}:0] bits_q;
    (* ram_style = "block" *)
    reg [{{ e.lanes * 8 - 1 }}:0] pmem [0:{{ e.depth - 1 }}];

    assign s_ready = (state_q == E_LOAD);
    assign out_valid = (state_q == E_PUSH);
    assign out_spikes = bits_q[{{ h.inputs - 1 }}:0];
    assign out_first = (step_q == {{ h.tw }}'d0);
    assign out_last = (step_q == {{ h.tw }}'d{{ h.timesteps - 1 }});
{%- if e.groups * e.lanes > h.inputs %}
    wire unused_pad = &{1'b0, bits_q[{{ e.groups * e.lanes - 1 }}:{{ h.inputs }}]};
{%- endif %}

    // Pixels of the {{ e.units }} lanes stepped this cycle.
{%- if e.phases > 1 %}
    reg [{{ e.units * 8 - 1 }}:0] pdata;
    always @(*) begin
        case (rd_ph_q)
{%- for k in 0..e.phases %}
            {{ e.pw }}'d{{ k }}: pdata = pword_q[{{ (k + 1) * e.units * 8 - 1 }}:{{ k * e.units * 8 }}];
{%- endfor %}
            default: pdata = {{ e.units * 8 }}'d0;
        endcase
    end
{%- else %}
    wire [{{ e.units * 8 - 1 }}:0] pdata = pword_q;
{%- endif %}
    wire [{{ e.units * 32 - 1 }}:0] x_next;
    wire [{{ e.units - 1 }}:0] spk;
    genvar l;
    generate
        for (l = 0; l < {{ e.units }}; l = l + 1) begin : g_lane
            wire [31:0] x0 = x_q[l*32 +: 32];
            wire [31:0] x1 = x0 ^ (x0 << 13);
            wire [31:0] x2 = x1 ^ (x1 >> 17);
            wire [31:0] x3 = x2 ^ (x2 << 5);
            assign x_next[l*32 +: 32] = x3;
            assign spk[l] = pdata[l*8 +: 8] > x3[31:24];
        end
    endgenerate

    wire read = (state_q == E_RUN) && (rg_q != {{ e.gw2 }}'d{{ e.groups }});
{%- if e.phases > 1 %}
    wire read_word = read && (ph_q == {{ e.pw }}'d0);
    wire ph_last = (ph_q == {{ e.pw }}'d{{ e.phases - 1 }});
{%- else %}
    wire read_word = read;
{%- endif %}
    always @(posedge clk) begin
        if (s_valid && s_ready) pmem[wg_q] <= s_data;
        if (read_word) pword_q <= pmem[rg_q[{{ e.gw - 1 }}:0]];
    end

    always @(posedge clk) begin
        if (rst) begin
            state_q <= E_LOAD;
            wg_q <= {{ e.gw }}'d0;
            rg_q <= {{ e.gw2 }}'d0;
{%- if e.phases > 1 %}
            ph_q <= {{ e.pw }}'d0;
            rd_ph_q <= {{ e.pw }}'d0;
{%- endif %}
            step_q <= {{ h.tw }}'d0;
            rd_valid_q <= 1'b0;
            x_q <= SEEDS;
            bits_q <= {{ e.groups * e.lanes }}'d0;
        end else begin
            rd_valid_q <= read;
{%- if e.phases > 1 %}
            if (read) rd_ph_q <= ph_q;
{%- endif %}
            if (rd_valid_q) begin
{%- if e.phases > 1 %}
                x_q <= {x_next, x_q[{{ e.lanes * 32 - 1 }}:{{ e.units * 32 }}]};
{%- else %}
                x_q <= x_next;
{%- endif %}
{%- if e.groups * e.phases > 1 %}
                bits_q <= {spk, bits_q[{{ e.groups * e.lanes - 1 }}:{{ e.units }}]};
{%- else %}
                bits_q <= spk;
{%- endif %}
            end
            case (state_q)
                E_LOAD: if (s_valid) begin
                    if (wg_q == {{ e.gw }}'d{{ e.groups - 1 }}) begin
                        wg_q <= {{ e.gw }}'d0;
                        rg_q <= {{ e.gw2 }}'d0;
                        step_q <= {{ h.tw }}'d0;
                        x_q <= SEEDS;     // every image starts from the seeds
                        state_q <= E_RUN;
                    end else begin
                        wg_q <= wg_q + {{ e.gw }}'d1;
                    end
                end
                E_RUN: if (rg_q == {{ e.gw2 }}'d{{ e.groups }}) state_q <= E_PUSH;
{%- if e.phases > 1 %}
                       else if (ph_last) begin
                           ph_q <= {{ e.pw }}'d0;
                           rg_q <= rg_q + {{ e.gw2 }}'d1;
                       end else ph_q <= ph_q + {{ e.pw }}'d1;
{%- else %}
                       else rg_q <= rg_q + {{ e.gw2 }}'d1;
{%- endif %}
                default: if (out_ready) begin
                    rg_q <= {{ e.gw2 }}'d0;
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
