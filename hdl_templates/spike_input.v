`default_nettype none
// {{ h.p }}_spike_input: accepts pre-encoded spikes. One timestep is {{ s.beats }} AXI4-Stream beat(s) of
// {{ s.sw }} bits (bit i of beat b is input b*{{ s.sw }} + i); {{ h.timesteps }} timesteps make one image. Each
// step is pushed as a {{ h.inputs }}-bit bitmap with out_first / out_last marking steps 0 and {{ h.timesteps - 1 }}.
module {{ h.p }}_spike_input (
    input  wire clk,
    input  wire rst,
    input  wire [{{ s.sw - 1 }}:0] s_data,
    input  wire s_valid,
    output wire s_ready,
    output wire out_valid,
    input  wire out_ready,
    output wire [{{ h.inputs - 1 }}:0] out_spikes,
    output wire out_first,
    output wire out_last
);
    reg push_q;
    reg [{{ s.bw - 1 }}:0] beat_q;
    reg [{{ h.tw - 1 }}:0] step_q;
    reg [{{ s.beats * s.sw - 1 }}:0] bits_q;

    assign s_ready = !push_q;
    assign out_valid = push_q;
    assign out_spikes = bits_q[{{ h.inputs - 1 }}:0];
    assign out_first = (step_q == {{ h.tw }}'d0);
    assign out_last = (step_q == {{ h.tw }}'d{{ h.timesteps - 1 }});
{%- if s.beats * s.sw > h.inputs %}
    wire unused_pad = &{1'b0, bits_q[{{ s.beats * s.sw - 1 }}:{{ h.inputs }}]};
{%- endif %}

    always @(posedge clk) begin
        if (rst) begin
            push_q <= 1'b0;
            beat_q <= {{ s.bw }}'d0;
            step_q <= {{ h.tw }}'d0;
            bits_q <= {{ s.beats * s.sw }}'d0;
        end else if (!push_q) begin
            if (s_valid) begin
{%- if s.beats > 1 %}
                bits_q <= {s_data, bits_q[{{ s.beats * s.sw - 1 }}:{{ s.sw }}]};
{%- else %}
                bits_q <= s_data;
{%- endif %}
                if (beat_q == {{ s.bw }}'d{{ s.beats - 1 }}) begin
                    beat_q <= {{ s.bw }}'d0;
                    push_q <= 1'b1;
                end else begin
                    beat_q <= beat_q + {{ s.bw }}'d1;
                end
            end
        end else if (out_ready) begin
            push_q <= 1'b0;
            step_q <= out_last ? {{ h.tw }}'d0 : step_q + {{ h.tw }}'d1;
        end
    end
endmodule
`default_nettype wire
