`default_nettype none
// {{ h.p }}_readout: counts the {{ h.outputs }} output neurons' spikes over the {{ h.timesteps }} timesteps of an
// image, then sends {{ h.outputs + 1 }} AXI4-Stream beats: the counts of neurons 0..{{ h.outputs - 1 }}, then the class
// (argmax of the counts, ties to the lowest index) with m_last.
module {{ h.p }}_readout (
    input  wire clk,
    input  wire rst,
    input  wire in_valid,
    output wire in_ready,
    input  wire [{{ h.outputs - 1 }}:0] in_spikes,
    input  wire in_first,
    input  wire in_last,
    output wire [{{ r.ow - 1 }}:0] m_data,
    output wire m_valid,
    input  wire m_ready,
    output wire m_last
);
    reg emit_q;
    reg [{{ r.ew - 1 }}:0] e_q;                 // beat being sent
    reg [{{ r.kw - 1 }}:0] best_q;
    reg [{{ r.cb - 1 }}:0] bestc_q;
    reg [{{ h.outputs * r.cb - 1 }}:0] counts_q;

    assign in_ready = !emit_q;
    assign m_valid = emit_q;
    assign m_last = (e_q == {{ r.ew }}'d{{ h.outputs }});
    wire [{{ r.cb - 1 }}:0] cur = counts_q[e_q*{{ r.cb }} +: {{ r.cb }}];
{%- if r.ow > r.cb %}
    wire [{{ r.ow - 1 }}:0] cur_w = { {{ r.ow - r.cb }}'d0, cur };
{%- else %}
    wire [{{ r.ow - 1 }}:0] cur_w = cur;
{%- endif %}
{%- if r.ow > r.kw %}
    wire [{{ r.ow - 1 }}:0] best_w = { {{ r.ow - r.kw }}'d0, best_q };
{%- else %}
    wire [{{ r.ow - 1 }}:0] best_w = best_q;
{%- endif %}
    assign m_data = m_last ? best_w : cur_w;

    integer k;
    always @(posedge clk) begin
        if (rst) begin
            emit_q <= 1'b0;
            e_q <= {{ r.ew }}'d0;
            best_q <= {{ r.kw }}'d0;
            bestc_q <= {{ r.cb }}'d0;
            counts_q <= {{ h.outputs * r.cb }}'d0;
        end else if (!emit_q) begin
            if (in_valid) begin
                for (k = 0; k < {{ h.outputs }}; k = k + 1)
                    counts_q[k*{{ r.cb }} +: {{ r.cb }}] <= (in_first ? {{ r.cb }}'d0 : counts_q[k*{{ r.cb }} +: {{ r.cb }}])
{%- if r.cb > 1 %}
                        + { {{ r.cb - 1 }}'d0, in_spikes[k] };
{%- else %}
                        + in_spikes[k];
{%- endif %}
                if (in_last) begin
                    emit_q <= 1'b1;
                    e_q <= {{ r.ew }}'d0;
                    best_q <= {{ r.kw }}'d0;
                    bestc_q <= {{ r.cb }}'d0;
                end
            end
        end else if (m_ready) begin
            if (m_last) begin
                emit_q <= 1'b0;
            end else begin
                // Strictly greater: ties keep the lowest index.
                if (cur > bestc_q) begin
                    best_q <= e_q[{{ r.kw - 1 }}:0];
                    bestc_q <= cur;
                end
                e_q <= e_q + {{ r.ew }}'d1;
            end
        end
    end
endmodule
`default_nettype wire
