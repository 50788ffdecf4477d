`default_nettype none
// tiny_tb: self-checking testbench for tiny_top.
// Reads +stimulus=FILE (default stimulus.hex: first line the number of samples, then 3
// input beats per sample, one hex word per line) and +expected=FILE (default expected.hex: per
// sample 2 spike counts and the class, one hex word per line, from the Rust golden model).
// Sends one image, waits for its result, compares, and goes on with the next image.
// +out=FILE (default tb_out.txt) receives "R sample cycles class counts..." per sample and, with
// +trace, per timestep "I spikes" (encoded input), "L layer spikes potentials" lines
// (hex, neuron 0 in the least significant bits). Cycles run from the first accepted input beat
// to the accepted m_axis_tlast beat. +vcd=FILE dumps a waveform.
module tiny_tb;
    reg clk = 1'b0;
    reg rst = 1'b1;
    always #5 clk = ~clk;

    reg [15:0] s_data = 16'd0;
    reg s_valid = 1'b0;
    wire s_ready;
    wire [7:0] m_data;
    wire m_valid;
    wire m_last;
    reg loading = 1'b0;
    tiny_top dut (
        .clk(clk), .rst(rst),
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
    reg [15:0] word;
    reg [7:0] got [0:2];
    reg [7:0] want;

    initial begin
        // +tiny_stimulus= etc. take precedence, so that several testbenches can share one
        // simulation (multi_tb).
        if (!$value$plusargs("tiny_stimulus=%s", stim_name))
            if (!$value$plusargs("stimulus=%s", stim_name)) stim_name = "stimulus.hex";
        if (!$value$plusargs("tiny_expected=%s", exp_name))
            if (!$value$plusargs("expected=%s", exp_name)) exp_name = "expected.hex";
        if (!$value$plusargs("tiny_out=%s", out_name))
            if (!$value$plusargs("out=%s", out_name)) out_name = "tb_out.txt";
        multi = $test$plusargs("multi") != 0;
        done = 1'b0;
        trace = $test$plusargs("trace") != 0;
        if ($value$plusargs("vcd=%s", vcd_name)) begin
            $dumpfile(vcd_name);
            $dumpvars(0, tiny_tb);
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
                if (beat == 3) begin
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
                    $fwrite(fd_out, "R %0d %0d %0d", sample, cycle - t_start, got[2]);
                    for (k = 0; k < 2; k = k + 1) $fwrite(fd_out, " %0d", got[k]);
                    $fwrite(fd_out, "\n");
                    if (e != 3) begin
                        errors = errors + 1;
                        $display("TB MISMATCH sample %0d: %0d output beats, expected 3", sample, e);
                    end
                    if (check) begin
                        for (k = 0; k <= 2; k = k + 1) begin
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
            if (errors == 0) $display("TB PASS tiny %0d samples", n_samples);
            else $display("TB FAIL tiny %0d mismatches", errors);
            done = 1'b1;
            if (!multi) $finish;
        end
        if (!done && idle > 1182) begin
            $fwrite(fd_out, "TIMEOUT %0d\n", sample);
            $fclose(fd_out);
            $display("TB TIMEOUT tiny at sample %0d", sample);
            done = 1'b1;
            if (!multi) $finish;
        end
    end

    // Traces for verify: every layer's spikes and potentials at the end of every timestep.
    always @(posedge clk) begin
        if (trace && !rst && !done) begin
            if (dut.src_valid && dut.src_ready) $fwrite(fd_out, "I %h\n", dut.src_spikes);
            if (dut.u_fc1.step_commit) $fwrite(fd_out, "L 0 %h %h\n", dut.u_fc1.s_flat, dut.u_fc1.v_flat);
            if (dut.u_fc2.step_commit) $fwrite(fd_out, "L 1 %h %h\n", dut.u_fc2.s_flat, dut.u_fc2.v_flat);
        end
    end
endmodule
`default_nettype wire
