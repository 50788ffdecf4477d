`default_nettype none
// {{ h.p }}_tb: self-checking testbench for {{ h.top }}.
// Reads +stimulus=FILE (default stimulus.hex: first line the number of samples, then {{ h.beats }}
// input beats per sample, one hex word per line) and +expected=FILE (default expected.hex: per
// sample {{ h.outputs }} spike counts and the class, one hex word per line, from the Rust golden model).
// Sends one image, waits for its result, compares, and goes on with the next image.
// +out=FILE (default tb_out.txt) receives "R sample cycles class counts..." per sample and, with
// +trace, per timestep "I spikes" (encoded input), "L layer spikes potentials{% if h.any_syn %} [synaptic]{% endif %}" lines
// (hex, neuron 0 in the least significant bits). Cycles run from the first accepted input beat
// to the accepted m_axis_tlast beat. +vcd=FILE dumps a waveform.
module {{ h.p }}_tb;
    reg clk = 1'b0;
    reg rst = 1'b1;
    always #5 clk = ~clk;

    reg [{{ h.sw - 1 }}:0] s_data = {{ h.sw }}'d0;
    reg s_valid = 1'b0;
    wire s_ready;
    wire [{{ r.ow - 1 }}:0] m_data;
    wire m_valid;
    wire m_last;
{%- if let Some(ld) = ld %}
    // Run-time weights: streamed once, before the first image, from the layers' weight files.
    reg [7:0] l_data = 8'd0;
    reg l_valid = 1'b0;
    wire l_ready;
    wire loaded;
    reg loading = 1'b1;
    integer lw, lb;
{%- for x in ld.layers %}
    reg [{{ x.bytes * 8 - 1 }}:0] lmem_{{ loop.index0 }} [0:{{ x.words - 1 }}];
{%- endfor %}
{%- else %}
    reg loading = 1'b0;
{%- endif %}
    {{ h.top }} dut (
        .clk(clk), .rst(rst),
{%- if ld.is_some() %}
        .s_load_tdata(l_data), .s_load_tvalid(l_valid), .s_load_tready(l_ready), .loaded(loaded),
{%- endif %}
        .s_axis_tdata(s_data), .s_axis_tvalid(s_valid), .s_axis_tready(s_ready),
        .m_axis_tdata(m_data), .m_axis_tvalid(m_valid), .m_axis_tready(1'b1), .m_axis_tlast(m_last)
    );

    reg [8*1024-1:0] stim_name;
    reg [8*1024-1:0] exp_name;
    reg [8*1024-1:0] out_name;
    reg [8*1024-1:0] vcd_name;
    integer fd_stim, fd_exp, fd_out, rc;
    integer n_samples, sample, beat, e, errors, cycle, t_start, idle, k;
    reg trace, check, sending, multi;
    reg done;   // finished (with +multi the testbench does not call $finish itself)
    reg [{{ h.sw - 1 }}:0] word;
    reg [{{ r.ow - 1 }}:0] got [0:{{ h.outputs }}];
    reg [{{ r.ow - 1 }}:0] want;

    initial begin
        // +{{ h.p }}_stimulus= etc. take precedence, so that several testbenches can share one
        // simulation (multi_tb).
        if (!$value$plusargs("{{ h.p }}_stimulus=%s", stim_name))
            if (!$value$plusargs("stimulus=%s", stim_name)) stim_name = "stimulus.hex";
        if (!$value$plusargs("{{ h.p }}_expected=%s", exp_name))
            if (!$value$plusargs("expected=%s", exp_name)) exp_name = "expected.hex";
        if (!$value$plusargs("{{ h.p }}_out=%s", out_name))
            if (!$value$plusargs("out=%s", out_name)) out_name = "tb_out.txt";
        multi = $test$plusargs("multi") != 0;
        done = 1'b0;
        trace = $test$plusargs("trace") != 0;
        if ($value$plusargs("vcd=%s", vcd_name)) begin
            $dumpfile(vcd_name);
            $dumpvars(0, {{ h.p }}_tb);
        end
        fd_stim = $fopen(stim_name, "r");
        if (fd_stim == 0) begin $display("TB ERROR cannot open stimulus %0s", stim_name); $finish; end
        fd_exp = $fopen(exp_name, "r");
        check = fd_exp != 0;
        fd_out = $fopen(out_name, "w");
        rc = $fscanf(fd_stim, "%h", n_samples);
        sample = 0; beat = 0; e = 0; errors = 0; cycle = 0; t_start = 0; idle = 0;
        sending = 1'b1;
        repeat (4) @(posedge clk);
        @(negedge clk);
        rst = 1'b0;
{%- if let Some(ld) = ld %}
{%- for x in ld.layers %}
        $readmemh("{{ x.file }}", lmem_{{ loop.index0 }}, 0, {{ x.words - 1 }});
        for (lw = 0; lw < {{ x.words }}; lw = lw + 1)
            for (lb = 0; lb < {{ x.bytes }}; lb = lb + 1) begin
                l_data = lmem_{{ loop.index0 }}[lw][lb*8 +: 8];
                l_valid = 1'b1;
                #1;
                if (!l_ready) begin $display("TB ERROR load refused"); $finish; end
                @(negedge clk);
            end
{%- endfor %}
        l_valid = 1'b0;
        while (!loaded) @(negedge clk);
        loading = 1'b0;
{%- endif %}
    end

    always @(posedge clk) begin
        cycle = cycle + 1;
        idle = idle + 1;
        if (loading) idle = 0;
        if (!rst && !loading && sample < n_samples) begin
            // Input side: a beat is accepted at this edge when valid and ready were both high.
            if (s_valid && s_ready) begin
                idle = 0;
                if (beat == 0) t_start = cycle;
                beat = beat + 1;
                if (beat == {{ h.beats }}) begin
                    s_valid <= 1'b0;
                    sending = 1'b0;
                end else begin
                    rc = $fscanf(fd_stim, "%h", word);
                    s_data <= word;
                end
            end else if (!s_valid && sending) begin
                rc = $fscanf(fd_stim, "%h", word);
                s_data <= word;
                s_valid <= 1'b1;
            end
            // Output side.
            if (m_valid) begin
                idle = 0;
                got[e] = m_data;
                e = e + 1;
                if (m_last) begin
                    $fwrite(fd_out, "R %0d %0d %0d", sample, cycle - t_start, got[{{ h.outputs }}]);
                    for (k = 0; k < {{ h.outputs }}; k = k + 1) $fwrite(fd_out, " %0d", got[k]);
                    $fwrite(fd_out, "\n");
                    if (e != {{ h.outputs + 1 }}) begin
                        errors = errors + 1;
                        $display("TB MISMATCH sample %0d: %0d output beats, expected {{ h.outputs + 1 }}", sample, e);
                    end
                    if (check) begin
                        for (k = 0; k <= {{ h.outputs }}; k = k + 1) begin
                            rc = $fscanf(fd_exp, "%h", want);
                            if (want !== got[k]) begin
                                errors = errors + 1;
                                $display("TB MISMATCH sample %0d beat %0d: expected %0d, got %0d", sample, k, want, got[k]);
                            end
                        end
                    end
                    e = 0;
                    beat = 0;
                    sample = sample + 1;
                    sending = 1'b1;
                end
            end
        end
        if (!rst && !done && sample == n_samples) begin
            $fwrite(fd_out, "DONE %0d %0d\n", n_samples, errors);
            $fclose(fd_out);
            if (errors == 0) $display("TB PASS {{ h.p }} %0d samples", n_samples);
            else $display("TB FAIL {{ h.p }} %0d mismatches", errors);
            done = 1'b1;
            if (!multi) $finish;
        end
        if (!done && idle > {{ h.timeout }}) begin
            $fwrite(fd_out, "TIMEOUT %0d\n", sample);
            $fclose(fd_out);
            $display("TB TIMEOUT {{ h.p }} at sample %0d", sample);
            done = 1'b1;
            if (!multi) $finish;
        end
    end

    // Traces for verify: every layer's spikes and potentials at the end of every timestep.
    always @(posedge clk) begin
        if (trace && !rst && !done) begin
            if (dut.src_valid && dut.src_ready) $fwrite(fd_out, "I %h\n", dut.src_spikes);
{%- for l in layers %}
            if (dut.u_{{ l.name }}.step_commit) $fwrite(fd_out, "L {{ loop.index0 }} %h %h{% if l.syn %} %h{% endif %}\n", dut.u_{{ l.name }}.s_flat, {{ l.trace_v }}{% if l.syn %}, {{ l.trace_syn }}{% endif %});
{%- endfor %}
        end
    end
endmodule
`default_nettype wire
