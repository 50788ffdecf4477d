`default_nettype none
// {{ h.p }}_{{ l.name }}_layer: layer "{{ l.name }}", {{ l.fi }} inputs -> {{ l.n }} LIF neurons, event-driven,
// accumulate-only, memory-based state (--arch mem): {{ l.pp }} accumulators and {{ l.pp }} neuron units;
// potentials{% if l.syn %} and synaptic currents{% endif %} of the {{ l.g }} group(s) of {{ l.pp }} neurons live in RAM.
//
// One timestep: (1) accept the input spike bitmap (in_valid/in_ready); accumulators := bias of
// group 0; (2) pass 0: the scanner streams the addresses of active inputs, each reads weight word
// (group 0, input) and adds its {{ l.pp }} weights{% if l.g > 1 %}, and the address is appended to the active-input list{% endif %};
// (3) neuron phase of the group (two cycles): {{ l.pp }} LIF units read the group's potentials, then
// the new ones and the group's spikes are written back{% if l.g > 1 %}; (4) groups 1..{{ l.g - 1 }}: accumulators := the group's
// bias, the list is replayed (weight word group * {{ l.fi }} + input), neuron phase{% endif %}; then push the
// output bitmap (out_valid/out_ready), keeping s[t] for the next step's reset.
// Cycles per step: S + 4 for pass 0 (S = scanner cycles){% if l.g > 1 %}, plus (k == 0 ? 3 : k + 3) per further
// group (k active inputs){% endif %}, plus 1 to push. A read-address register sits between the
// scanner (or the list) and the weight memory. Padded neurons {{ l.n }}..{{ l.npad - 1 }} have zero weights and bias.
{%- if l.load %}
// Weights: {{ l.wdepth }} words of {{ l.pp * l.wb }} bits written through wl_* before use (not initialised{% if l.spram %};
// single-port RAM for the iCE40 SPRAM{% endif %}).
{%- else %}
// Weights: {{ l.wdepth }} words of {{ l.pp * l.wb }} bits from {{ l.weight_file }}.
{%- endif %}
module {{ h.p }}_{{ l.name }}_layer (
    input  wire clk,
    input  wire rst,
{%- if l.load %}
    input  wire wl_en,
    input  wire [{{ l.maw - 1 }}:0] wl_addr,
    input  wire [{{ l.pp * l.wb - 1 }}:0] wl_data,
{%- endif %}
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
    localparam [2:0] S_IDLE = 3'd0, S_SCAN = 3'd1,{% if l.g > 1 %} S_LIST = 3'd2,{% endif %} S_NEUR = 3'd3, S_WB = 3'd4,
        S_OUT = 3'd5;

    reg [2:0] state_q;
    reg scan_busy_q;
    // Read-address pipeline register: the scanner's encoder and the list's base adder end
    // here, so the weight memory's address comes straight from a register.
    reg [{{ l.maw - 1 }}:0] ra_q;
    reg ra_valid_q;
    reg first_q;
    reg last_q;
    reg out_valid_q;
    reg out_first_q;
    reg out_last_q;
    reg [{{ l.n - 1 }}:0] out_spikes_q;

    assign in_ready = (state_q == S_IDLE);
    wire start = in_valid && (state_q == S_IDLE);
    wire can_push = !out_valid_q || out_ready;
    // High for the one cycle in which the potentials and spikes hold this timestep's final values.
    wire step_commit = (state_q == S_OUT) && can_push;
    wire clear = start && in_first;   // s[-1] = 0; v[-1] = 0 is applied through first_q
    wire neur = (state_q == S_NEUR);   // the LIF units compute; results registered
    wire wb = (state_q == S_WB);       // write back potentials and spikes, next group

    // ---- spike-address scanner (pass 0) ----
    wire scan_valid;
    wire scan_busy;
    wire [{{ l.aiw - 1 }}:0] scan_addr;
    {{ h.p }}_{{ l.name }}_scanner u_scan (
        .clk(clk), .rst(rst), .start(start), .bits(in_spikes),
        .addr_valid(scan_valid), .addr_ready(1'b1), .addr(scan_addr), .busy(scan_busy)
    );
{%- if l.g > 1 %}

    // ---- active-input list, replayed for groups 1..{{ l.g - 1 }} ----
    // The replay for group g + 1 starts in group g's neuron phase (list read, base adder and
    // address register fill while the LIF units work); its first weight word reaches the
    // accumulators after they were loaded with the group's bias.
    reg [{{ l.gw - 1 }}:0] g_q;
    reg [{{ l.maw - 1 }}:0] base_q;          // g_q * {{ l.fi }}; (g_q + 1) * {{ l.fi }} from the neuron phase on
    reg [{{ l.lw - 1 }}:0] cnt_q;            // list length
    reg [{{ l.lw - 1 }}:0] rp_q;             // list read pointer
    reg lrun_q;                              // replay running
    reg lrd_valid_q;
    reg [{{ l.aiw - 1 }}:0] lrd_q;
    reg [{{ l.aiw - 1 }}:0] lmem [0:{{ l.ldepth - 1 }}];
    wire last_group = (g_q == {{ l.gw }}'d{{ l.g - 1 }});
    wire list_rd = lrun_q && (rp_q != cnt_q);
    // The group's last weight word is added at the end of this cycle (or it has none).
    wire list_done = (rp_q == cnt_q) && !lrd_valid_q && !ra_valid_q;
    always @(posedge clk) begin
        if (scan_valid) lmem[cnt_q[{{ l.law - 1 }}:0]] <= scan_addr;
        // The replay never overlaps the scan (lrun_q is low in pass 0); `!scan_valid` says so
        // to Yosys, which then adds no read-during-write bypass in front of the address adder.
        if (list_rd && !scan_valid) lrd_q <= lmem[rp_q[{{ l.law - 1 }}:0]];
    end
    wire a_valid = lrd_valid_q || scan_valid;
    // Pass 0 reads group 0 (base 0): the scanner's address bypasses the adder.
{%- if l.apad > 0 %}
    wire [{{ l.maw - 1 }}:0] raddr = scan_busy ? { {{ l.apad }}'d0, scan_addr } : base_q + { {{ l.apad }}'d0, lrd_q };
{%- else %}
    wire [{{ l.maw - 1 }}:0] raddr = scan_busy ? scan_addr : base_q + lrd_q;
{%- endif %}
{%- else %}
    wire a_valid = scan_valid;
{%- if l.apad > 0 %}
    wire [{{ l.maw - 1 }}:0] raddr = { {{ l.apad }}'d0, scan_addr };
{%- else %}
    wire [{{ l.maw - 1 }}:0] raddr = scan_addr;
{%- endif %}
{%- endif %}

    // ---- weight memory: word group * {{ l.fi }} + input holds the {{ l.pp }} weights of that group ----
{%- if l.spram %}
    (* ram_style = "huge" *)
{%- endif %}
    reg [{{ l.pp * l.wb - 1 }}:0] wmem [0:{{ l.depth - 1 }}];
    reg [{{ l.pp * l.wb - 1 }}:0] wdata_q;
    reg wrd_valid_q;
    always @(posedge clk) ra_q <= raddr;
{%- if l.load %}
    // One port: the load writes, inference reads.
    wire [{{ l.maw - 1 }}:0] maddr = wl_en ? wl_addr : ra_q;
    always @(posedge clk) begin
        if (wl_en) wmem[maddr] <= wl_data;
        else if (ra_valid_q) wdata_q <= wmem[maddr];
    end
{%- else %}
    initial $readmemh("{{ l.weight_file }}", wmem);
    always @(posedge clk) begin
        if (ra_valid_q) wdata_q <= wmem[ra_q];
    end
{%- endif %}

    // ---- bias of the group being started: one word per group from {{ l.bias_file }} ----
    // (mem2reg: Yosys folds the constant words into a LUT ROM, no memory cells)
    (* mem2reg *) reg [{{ l.pp * l.ab - 1 }}:0] bias_rom [0:{{ l.bias_depth - 1 }}];
    initial $readmemh("{{ l.bias_file }}", bias_rom);
{%- if l.g > 1 %}
    wire [{{ l.gw - 1 }}:0] bias_sel = wb ? g_q + {{ l.gw }}'d1 : {{ l.gw }}'d0;
    wire [{{ l.pp * l.ab - 1 }}:0] bias_g = bias_rom[bias_sel];
    wire load_bias = start || (wb && !last_group);
{%- else %}
    wire [{{ l.pp * l.ab - 1 }}:0] bias_g = bias_rom[0];
    wire load_bias = start;
{%- endif %}

    // ---- {{ l.pp }} accumulators ----
    wire [{{ l.pp * l.ab - 1 }}:0] acc_flat;
    genvar i;
    generate
        for (i = 0; i < {{ l.pp }}; i = i + 1) begin : g_acc
            reg signed [{{ l.ab - 1 }}:0] acc_q;
            wire signed [{{ l.wb - 1 }}:0] w = wdata_q[i*{{ l.wb }} +: {{ l.wb }}];
            assign acc_flat[i*{{ l.ab }} +: {{ l.ab }}] = acc_q;
            always @(posedge clk) begin
                if (rst) acc_q <= {{ l.ab }}'sd0;
                else if (load_bias) acc_q <= bias_g[i*{{ l.ab }} +: {{ l.ab }}];
                else if (wrd_valid_q) acc_q <= acc_q + { { {{ l.ab - l.wb }}{w[{{ l.wb - 1 }}]} }, w };
            end
        end
    endgenerate

    // ---- potentials{% if l.syn %} and synaptic currents{% endif %} (RAM, one word per group), spikes (register) ----
    reg [{{ l.npad - 1 }}:0] s_q;
    wire [{{ l.npad - 1 }}:0] s_flat = s_q;
    wire [{{ l.pp * l.mb - 1 }}:0] v_new;
    wire [{{ l.pp - 1 }}:0] s_new;
{%- if l.syn %}
    wire [{{ l.pp * l.mb - 1 }}:0] syn_new;
    wire [{{ l.vw - 1 }}:0] state_new = {syn_new, v_new};
{%- else %}
    wire [{{ l.vw - 1 }}:0] state_new = v_new;
{%- endif %}
    reg [{{ l.vw - 1 }}:0] vrd_q;
    // Neuron-phase pipeline register (keeps the RAM writes off the LIF path).
    reg [{{ l.vw - 1 }}:0] state_new_q;
    reg [{{ l.pp - 1 }}:0] s_new_q;
    always @(posedge clk) begin
        if (neur) begin
            state_new_q <= state_new;
            s_new_q <= s_new;
        end
    end
{%- if l.g > 1 %}
    reg [{{ l.vw - 1 }}:0] vmem [0:{{ l.g - 1 }}];
    always @(posedge clk) begin
        if (wb) vmem[g_q] <= state_new_q;
        // Not read in the write-back cycle: vrd_q is used in the neuron phase, which always
        // follows a read cycle (scan or list pass), and a read exclusive with the write needs
        // no read-during-write bypass (that bypass sat in front of the LIF units).
        if (!wb) vrd_q <= vmem[g_q];
    end
    // The group's previous spikes, read ahead: g_q is stable for at least one cycle before
    // every neuron phase (the scan or list pass), which keeps this multiplexer off the neuron
    // phase's path.
    reg [{{ l.pp - 1 }}:0] s_old;
    always @(posedge clk) s_old <= s_q[g_q*{{ l.pp }} +: {{ l.pp }}];
{%- else %}
    always @(posedge clk) begin
        if (wb) vrd_q <= state_new_q;
    end
    wire [{{ l.pp - 1 }}:0] s_old = s_q;
{%- endif %}
    // v[t-1] = 0 at the first step of an inference.
    wire [{{ l.vw - 1 }}:0] state_old = first_q ? {{ l.vw }}'d0 : vrd_q;

    {{ h.p }}_{{ l.name }}_lif u_lif (
        .v_in(state_old[{{ l.pp * l.mb - 1 }}:0]),
{%- if l.syn %}
        .syn_in(state_old[{{ l.vw - 1 }}:{{ l.pp * l.mb }}]),
        .syn_out(syn_new),
{%- endif %}
        .s_in(s_old),
        .cur_in(acc_flat),
        .v_out(v_new),
        .s_out(s_new)
    );

    always @(posedge clk) begin
        if (rst || clear) s_q <= {{ l.npad }}'d0;
{%- if l.g > 1 %}
        else if (wb) s_q[g_q*{{ l.pp }} +: {{ l.pp }}] <= s_new_q;
{%- else %}
        else if (wb) s_q <= s_new_q;
{%- endif %}
    end

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
            wrd_valid_q <= 1'b0;
            ra_valid_q <= 1'b0;
            scan_busy_q <= 1'b0;
{%- if l.g > 1 %}
            g_q <= {{ l.gw }}'d0;
            base_q <= {{ l.maw }}'d0;
            cnt_q <= {{ l.lw }}'d0;
            rp_q <= {{ l.lw }}'d0;
            lrun_q <= 1'b0;
            lrd_valid_q <= 1'b0;
{%- endif %}
        end else begin
            if (out_valid_q && out_ready) out_valid_q <= 1'b0;
            ra_valid_q <= a_valid;
            wrd_valid_q <= ra_valid_q;
            scan_busy_q <= scan_busy;
{%- if l.g > 1 %}
            lrd_valid_q <= list_rd;
            if (list_rd) rp_q <= rp_q + {{ l.lw }}'d1;
            if (scan_valid) cnt_q <= cnt_q + {{ l.lw }}'d1;
{%- endif %}
            case (state_q)
                S_IDLE: if (in_valid) begin
                    first_q <= in_first;
                    last_q <= in_last;
{%- if l.g > 1 %}
                    cnt_q <= {{ l.lw }}'d0;
{%- endif %}
                    state_q <= S_SCAN;
                end
                // Pass 0 ends a cycle after the scanner stopped (its last address has left ra_q).
{%- if l.g > 1 %}
                // Entering a neuron phase starts the next group's replay (none after the last).
                S_SCAN: if (!scan_busy && !scan_busy_q) begin
                    state_q <= S_NEUR;
                    rp_q <= {{ l.lw }}'d0;
                    lrun_q <= 1'b1;
                end
                S_LIST: if (list_done) begin
                    state_q <= S_NEUR;
                    rp_q <= {{ l.lw }}'d0;
                    lrun_q <= !last_group;
                end
                S_NEUR: begin
                    // Only the next group's replay reads base_q from here on.
                    base_q <= last_group ? {{ l.maw }}'d0 : base_q + {{ l.maw }}'d{{ l.fi }};
                    state_q <= S_WB;
                end
                S_WB: begin
                    if (last_group) begin
                        g_q <= {{ l.gw }}'d0;
                        state_q <= S_OUT;
                    end else begin
                        g_q <= g_q + {{ l.gw }}'d1;
                        state_q <= S_LIST;
                    end
                end
{%- else %}
                S_SCAN: if (!scan_busy && !scan_busy_q) state_q <= S_NEUR;
                S_NEUR: state_q <= S_WB;
                S_WB: state_q <= S_OUT;
{%- endif %}
                default: if (can_push) begin
                    out_valid_q <= 1'b1;
                    out_first_q <= first_q;
                    out_last_q <= last_q;
                    out_spikes_q <= s_q[{{ l.n - 1 }}:0];
                    state_q <= S_IDLE;
                end
            endcase
        end
    end
    wire unused_s = &{1'b0, s_flat};   // read by the testbench trace
    wire unused_commit = step_commit;
    assign out_valid = out_valid_q;
    assign out_spikes = out_spikes_q;
    assign out_first = out_first_q;
    assign out_last = out_last_q;
endmodule
`default_nettype wire
