`default_nettype none
// {{ h.p }}_{{ l.name }}_scanner: streams the addresses of the set bits of a {{ l.fi }}-bit spike bitmap in
// increasing order, {{ l.c }} bits (one chunk) at a time. A chunk with k set bits takes k accepted
// addresses; an empty chunk takes one cycle. The bitmap is latched on `start`, so the producer
// may overwrite its copy at once (this register is the consumer half of the double buffer).
module {{ h.p }}_{{ l.name }}_scanner (
    input  wire clk,
    input  wire rst,
    input  wire start,
    input  wire [{{ l.fi - 1 }}:0] bits,
    output wire addr_valid,
    input  wire addr_ready,
    output wire [{{ l.aiw - 1 }}:0] addr,
    output wire busy
);
    reg busy_q;
    reg [{{ l.c - 1 }}:0] cur_q;          // remaining set bits of the current chunk
    reg [{{ l.ciw - 1 }}:0] ci_q;         // current chunk index
{%- if l.nc > 1 %}
    reg [{{ (l.nc - 1) * l.c - 1 }}:0] rest_q;   // the chunks after the current one
{%- endif %}
{%- if l.nc * l.c > l.fi %}
    wire [{{ l.nc * l.c - 1 }}:0] padded = { {{ l.nc * l.c - l.fi }}'d0, bits };
{%- else %}
    wire [{{ l.nc * l.c - 1 }}:0] padded = bits;
{%- endif %}

    // Index of the lowest set bit of cur_q: isolate it (cur & ~(cur - 1), sharing the decrement
    // that clears it) and OR-encode the one-hot word, a shallow tree instead of a {{ l.c }}-deep
    // priority chain.
    wire [{{ l.c - 1 }}:0] dec = cur_q - {{ l.c }}'d1;
    wire [{{ l.c - 1 }}:0] lowbit = cur_q & ~dec;
    wire [{{ l.cw - 1 }}:0] low;
    genvar gi, gb;
    generate
        for (gi = 0; gi < {{ l.cw }}; gi = gi + 1) begin : g_low
            wire [{{ l.c - 1 }}:0] sel;
            for (gb = 0; gb < {{ l.c }}; gb = gb + 1) begin : g_bit
                assign sel[gb] = ((gb >> gi) % 2 == 1) ? lowbit[gb] : 1'b0;
            end
            assign low[gi] = |sel;
        end
    endgenerate

    wire has = |cur_q;
    wire [{{ l.c - 1 }}:0] cur_rest = cur_q & dec;
    wire last_chunk = (ci_q == {{ l.ciw }}'d{{ l.nc - 1 }});
    wire advance = busy_q && (!has || (addr_ready && cur_rest == {{ l.c }}'d0));

    assign addr_valid = busy_q && has;
{%- if l.aiw > l.ciw + l.cw %}
    assign addr = { {{ l.aiw - l.ciw - l.cw }}'d0, ci_q, low };
{%- else %}
    assign addr = {ci_q, low};
{%- endif %}
    assign busy = busy_q;

    always @(posedge clk) begin
        if (rst) begin
            busy_q <= 1'b0;
            cur_q <= {{ l.c }}'d0;
            ci_q <= {{ l.ciw }}'d0;
{%- if l.nc > 1 %}
            rest_q <= {{ (l.nc - 1) * l.c }}'d0;
{%- endif %}
        end else if (start) begin
            busy_q <= 1'b1;
            cur_q <= padded[{{ l.c - 1 }}:0];
            ci_q <= {{ l.ciw }}'d0;
{%- if l.nc > 1 %}
            rest_q <= padded[{{ l.nc * l.c - 1 }}:{{ l.c }}];
{%- endif %}
        end else if (busy_q) begin
            if (has && addr_ready && cur_rest != {{ l.c }}'d0) begin
                cur_q <= cur_rest;
            end else if (advance) begin
                if (last_chunk) begin
                    busy_q <= 1'b0;
                    cur_q <= {{ l.c }}'d0;
                end else begin
{%- if l.nc > 1 %}
                    cur_q <= rest_q[{{ l.c - 1 }}:0];
{%- if l.nc > 2 %}
                    rest_q <= { {{ l.c }}'d0, rest_q[{{ (l.nc - 1) * l.c - 1 }}:{{ l.c }}] };
{%- endif %}
                    ci_q <= ci_q + {{ l.ciw }}'d1;
{%- endif %}
                end
            end
        end
    end
endmodule
`default_nettype wire
