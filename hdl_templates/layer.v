`default_nettype none
// {{ h.p }}_{{ l.name }}_layer: layer "{{ l.name }}", {{ l.fi }} inputs -> {{ l.n }} LIF neurons, event-driven and
// accumulate-only.
//
// One timestep: (1) accept the input spike bitmap (in_valid/in_ready), currents := bias;
// (2) the scanner streams the addresses of active inputs; each address reads weight words
//     of {{ l.pp }} weights ({{ l.g }} word(s) per address) that are added into the currents;
// (3) neuron phase: {{ l.gn }} cycle(s) of {{ l.nu }} neurons each; potentials and spikes rotate by
//     {{ l.nu }} places per cycle and are back in order afterwards, the currents stay and are read
//     group by group;
// (4) push the output spike bitmap (out_valid/out_ready), keep s[t] for the next reset.
// Padded neurons {{ l.n }}..{{ l.npad - 1 }} have no weights and zero bias and never fire.
module {{ h.p }}_{{ l.name }}_layer (
    input  wire clk,
    input  wire rst,
    input  wire in_valid,
    output wire in_ready,
    input  wire [{{ l.fi - 1 }}:0] in_spikes,
    input  wire in_first,
    input  wire in_last,
    output wire out_valid,
    input  wire out_ready,
    output wire [{{ l.n - 1 }}:0] out_spikes,
    output wire out_first,
    output wire out_last
);
    localparam [1:0] S_IDLE = 2'd0, S_ACC = 2'd1, S_NEUR = 2'd2, S_OUT = 2'd3;
    // Biases, one word of {{ l.ab }} bits per neuron (padding included) from {{ l.bias_file }};
    // mem2reg: Yosys folds the constant words into the logic (no memory cells).
    (* mem2reg *) reg [{{ l.ab - 1 }}:0] bias_rom [0:{{ l.npad - 1 }}];
    initial $readmemh("{{ l.bias_file }}", bias_rom);

    reg [1:0] state_q;
    reg first_q;
    reg last_q;
    reg out_valid_q;
    reg out_first_q;
    reg out_last_q;
    reg [{{ l.n - 1 }}:0] out_spikes_q;
{%- if l.gn > 1 %}
    reg [{{ l.kw - 1 }}:0] k_q;
{%- endif %}

    assign in_ready = (state_q == S_IDLE);
    wire start = in_valid && (state_q == S_IDLE);
    wire can_push = !out_valid_q || out_ready;
    // High for the one cycle in which v/s hold this timestep's final values (testbench trace).
    wire step_commit = (state_q == S_OUT) && can_push;
{%- if l.gn > 1 %}
    wire neur_last = (k_q == {{ l.kw }}'d{{ l.gn - 1 }});
{%- else %}
    wire neur_last = 1'b1;
{%- endif %}

    // ---- spike-address scanner ----
    wire scan_valid;
    wire scan_ready;
    wire scan_busy;
    wire [{{ l.aiw - 1 }}:0] scan_addr;
    {{ h.p }}_{{ l.name }}_scanner u_scan (
        .clk(clk), .rst(rst), .start(start), .bits(in_spikes),
        .addr_valid(scan_valid), .addr_ready(scan_ready), .addr(scan_addr), .busy(scan_busy)
    );

    // ---- weight memory: word (address{% if l.g > 1 %}, group{% endif %}) holds {{ l.pp }} weights of {{ l.wb }} bits ----
    reg [{{ l.pp * l.wb - 1 }}:0] wmem [0:{{ l.depth - 1 }}];
    initial $readmemh("{{ l.weight_file }}", wmem);
    reg [{{ l.pp * l.wb - 1 }}:0] wdata_q;
    reg rd_valid_q;
{%- if l.g > 1 %}
    reg [{{ l.gw - 1 }}:0] g_q;
    wire [{{ l.maw - 1 }}:0] waddr = {scan_addr, g_q};
    assign scan_ready = (g_q == {{ l.gw }}'d{{ l.g - 1 }});
{%- else %}
    wire [{{ l.maw - 1 }}:0] waddr = scan_addr;
    assign scan_ready = 1'b1;
{%- endif %}
    always @(posedge clk) begin
        if (scan_valid) wdata_q <= wmem[waddr];
    end
    always @(posedge clk) begin
        if (rst) begin
            rd_valid_q <= 1'b0;
{%- if l.g > 1 %}
            g_q <= {{ l.gw }}'d0;
{%- endif %}
        end else begin
            rd_valid_q <= scan_valid;
{%- if l.g > 1 %}
            if (scan_valid) g_q <= scan_ready ? {{ l.gw }}'d0 : g_q + {{ l.gw }}'d1;
{%- endif %}
        end
    end
    wire hit = rd_valid_q;   // wdata_q holds a weight word to add

    // ---- per-neuron state: currents, potentials{% if l.syn %}, synaptic currents{% endif %}, spikes ----
    wire [{{ l.npad * l.ab - 1 }}:0] acc_flat;
    wire [{{ l.npad * l.mb - 1 }}:0] v_flat;
{%- if l.syn %}
    wire [{{ l.npad * l.mb - 1 }}:0] syn_flat;
    wire [{{ l.nu * l.mb - 1 }}:0] syn_new;
{%- endif %}
    wire [{{ l.npad - 1 }}:0] s_flat;
    wire [{{ l.nu * l.mb - 1 }}:0] v_new;
    wire [{{ l.nu - 1 }}:0] s_new;
    wire clear = start && in_first;   // v[-1] = 0, s[-1] = 0 at the first step of an inference
    wire rotate = (state_q == S_NEUR);

    // Currents of the {{ l.nu }} neurons in the neuron unit: group k_q of the (unrotated) currents.
{%- if l.gn > 1 %}
    reg [{{ l.nu * l.ab - 1 }}:0] cur_sel;
    always @(*) begin
        case (k_q)
{%- for k in 0..l.gn %}
            {{ l.kw }}'d{{ k }}: cur_sel = acc_flat[{{ (k + 1) * l.nu * l.ab - 1 }}:{{ k * l.nu * l.ab }}];
{%- endfor %}
            default: cur_sel = {{ l.nu * l.ab }}'d0;
        endcase
    end
{%- else %}
    wire [{{ l.nu * l.ab - 1 }}:0] cur_sel = acc_flat[{{ l.nu * l.ab - 1 }}:0];
{%- endif %}

    {{ h.p }}_{{ l.name }}_lif u_lif (
        .v_in(v_flat[{{ l.nu * l.mb - 1 }}:0]),
{%- if l.syn %}
        .syn_in(syn_flat[{{ l.nu * l.mb - 1 }}:0]),
        .syn_out(syn_new),
{%- endif %}
        .s_in(s_flat[{{ l.nu - 1 }}:0]),
        .cur_in(cur_sel),
        .v_out(v_new),
        .s_out(s_new)
    );

    genvar i;
    generate
        for (i = 0; i < {{ l.npad }}; i = i + 1) begin : g_n
            reg signed [{{ l.mb - 1 }}:0] v_q;
{%- if l.syn %}
            reg signed [{{ l.mb - 1 }}:0] syn_q;
{%- endif %}
            reg s_q;
            assign v_flat[i*{{ l.mb }} +: {{ l.mb }}] = v_q;
{%- if l.syn %}
            assign syn_flat[i*{{ l.mb }} +: {{ l.mb }}] = syn_q;
{%- endif %}
            assign s_flat[i] = s_q;
            // Neuron-phase rotation source: the next group's state, or the neuron unit's result
            // for the top group.
            wire signed [{{ l.mb - 1 }}:0] v_next;
{%- if l.syn %}
            wire signed [{{ l.mb - 1 }}:0] syn_next;
{%- endif %}
            wire s_next;
            if (i < {{ l.npad - l.nu }}) begin : g_mid
                assign v_next = v_flat[(i+{{ l.nu }})*{{ l.mb }} +: {{ l.mb }}];
{%- if l.syn %}
                assign syn_next = syn_flat[(i+{{ l.nu }})*{{ l.mb }} +: {{ l.mb }}];
{%- endif %}
                assign s_next = s_flat[i+{{ l.nu }}];
            end else begin : g_top
                assign v_next = v_new[(i-{{ l.npad - l.nu }})*{{ l.mb }} +: {{ l.mb }}];
{%- if l.syn %}
                assign syn_next = syn_new[(i-{{ l.npad - l.nu }})*{{ l.mb }} +: {{ l.mb }}];
{%- endif %}
                assign s_next = s_new[i-{{ l.npad - l.nu }}];
            end
            // Currents: a ring of {{ l.g * l.pp }} accumulators. Each weight word shifts it down by
            // {{ l.pp }} places while the {{ l.pp }} adders add the word's lanes into the bottom
            // group, whose sums enter at the top; after the {{ l.g }} word(s) of an input the ring
            // is back in place. Neurons {{ l.g * l.pp }}.. (padding) have no current.
            if (i < {{ l.g * l.pp }}) begin : g_acc
                reg signed [{{ l.ab - 1 }}:0] acc_q;
                assign acc_flat[i*{{ l.ab }} +: {{ l.ab }}] = acc_q;
                wire signed [{{ l.ab - 1 }}:0] acc_d;
{%- if l.g > 1 %}
                if (i >= {{ l.g * l.pp - l.pp }}) begin : g_add
                    wire signed [{{ l.wb - 1 }}:0] w = wdata_q[(i-{{ l.g * l.pp - l.pp }})*{{ l.wb }} +: {{ l.wb }}];
                    wire signed [{{ l.ab - 1 }}:0] a = acc_flat[(i-{{ l.g * l.pp - l.pp }})*{{ l.ab }} +: {{ l.ab }}];
                    assign acc_d = a + { { {{ l.ab - l.wb }}{w[{{ l.wb - 1 }}]} }, w };
                end else begin : g_shift
                    assign acc_d = acc_flat[(i+{{ l.pp }})*{{ l.ab }} +: {{ l.ab }}];
                end
{%- else %}
                wire signed [{{ l.wb - 1 }}:0] w = wdata_q[i*{{ l.wb }} +: {{ l.wb }}];
                assign acc_d = acc_q + { { {{ l.ab - l.wb }}{w[{{ l.wb - 1 }}]} }, w };
{%- endif %}
                // Reset and the start of a step both load the bias: a constant once Yosys folds
                // the ROM, so the flip-flops' synchronous set/reset pins do it without a LUT.
                always @(posedge clk) begin
                    if (rst || start) acc_q <= bias_rom[i];
                    else if (hit) acc_q <= acc_d;
                end
            end else begin : g_nocur
                assign acc_flat[i*{{ l.ab }} +: {{ l.ab }}] = {{ l.ab }}'sd0;
            end
            always @(posedge clk) begin
                if (rst || clear) begin
                    v_q <= {{ l.mb }}'sd0;
{%- if l.syn %}
                    syn_q <= {{ l.mb }}'sd0;
{%- endif %}
                    s_q <= 1'b0;
                end else if (rotate) begin
                    v_q <= v_next;
{%- if l.syn %}
                    syn_q <= syn_next;
{%- endif %}
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
            out_spikes_q <= {{ l.n }}'d0;
{%- if l.gn > 1 %}
            k_q <= {{ l.kw }}'d0;
{%- endif %}
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
{%- if l.gn > 1 %}
                    k_q <= neur_last ? {{ l.kw }}'d0 : k_q + {{ l.kw }}'d1;
{%- endif %}
                    if (neur_last) state_q <= S_OUT;
                end
                default: if (can_push) begin
                    out_valid_q <= 1'b1;
                    out_first_q <= first_q;
                    out_last_q <= last_q;
                    out_spikes_q <= s_flat[{{ l.n - 1 }}:0];
                    state_q <= S_IDLE;
                end
            endcase
        end
    end
{%- if l.npad > l.n %}
    wire unused_pad = &{1'b0, s_flat[{{ l.npad - 1 }}:{{ l.n }}]};
{%- endif %}
    wire unused_commit = step_commit;
    assign out_valid = out_valid_q;
    assign out_spikes = out_spikes_q;
    assign out_first = out_first_q;
    assign out_last = out_last_q;
endmodule
`default_nettype wire
