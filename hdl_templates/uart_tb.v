`default_nettype none
// {{ h.p }}_uart_tb: drives {{ h.p }}_uart over its serial pins only (CLKS_PER_BIT = {{ u.tb_clks_per_bit }} to keep the
// simulation short){% if ld.is_some() %}: sends the weight bytes{% endif %}, then for each sample of +stimulus=FILE (the
// generated stimulus.hex) its {{ h.inputs }} pixel bytes, receives the class byte and compares it with the
// class in +expected=FILE (expected.hex, from the Rust golden model). Prints "UART R sample class"
// per sample and "UART PASS n" or "UART FAIL n".
module {{ h.p }}_uart_tb;
    localparam integer CPB = {{ u.tb_clks_per_bit }};
    reg clk = 1'b0;
    always #5 clk = ~clk;
    reg rx = 1'b1;
    wire tx;
    wire led_loaded_n;
    wire led_busy_n;
    {{ h.p }}_uart #(.CLKS_PER_BIT(CPB)) dut (
        .clk(clk), .rst_n(1'b1), .uart_rx(rx), .uart_tx(tx),
        .led_loaded_n(led_loaded_n), .led_busy_n(led_busy_n)
    );

    task send_byte;
        input [7:0] v;
        integer i;
        begin
            rx = 1'b0;
            repeat (CPB) @(posedge clk);
            for (i = 0; i < 8; i = i + 1) begin
                rx = v[i];
                repeat (CPB) @(posedge clk);
            end
            rx = 1'b1;
            repeat (CPB) @(posedge clk);
        end
    endtask

    reg [7:0] got;
    integer waited;
    task recv_byte;
        integer i;
        begin
            waited = 0;
            while (tx == 1'b1 && waited < {{ u.tb_timeout }}) begin
                @(posedge clk);
                waited = waited + 1;
            end
            if (waited >= {{ u.tb_timeout }}) begin
                $display("UART FAIL timeout waiting for the class");
                $finish;
            end
            repeat (CPB + CPB / 2) @(posedge clk);
            for (i = 0; i < 8; i = i + 1) begin
                got[i] = tx;
                repeat (CPB) @(posedge clk);
            end
        end
    endtask

    reg [8*1024-1:0] stim_name;
    reg [8*1024-1:0] exp_name;
    integer fd_stim, fd_exp, rc, n, s, g, l, k, p, errors;
    reg [{{ h.sw - 1 }}:0] word;
    reg [{{ r.ow - 1 }}:0] want;
{%- if let Some(ld) = ld %}
    integer lw, lb;
{%- for x in ld.layers %}
    reg [{{ x.bytes * 8 - 1 }}:0] lmem_{{ loop.index0 }} [0:{{ x.words - 1 }}];
{%- endfor %}
{%- endif %}
    initial begin
        if (!$value$plusargs("stimulus=%s", stim_name)) stim_name = "stimulus.hex";
        if (!$value$plusargs("expected=%s", exp_name)) exp_name = "expected.hex";
        fd_stim = $fopen(stim_name, "r");
        fd_exp = $fopen(exp_name, "r");
        if (fd_stim == 0 || fd_exp == 0) begin $display("UART FAIL cannot open stimulus/expected"); $finish; end
        rc = $fscanf(fd_stim, "%h", n);
        errors = 0;
        repeat (40) @(posedge clk);
{%- if let Some(ld) = ld %}
        if (led_loaded_n !== 1'b1) begin $display("UART FAIL loaded before the weights"); errors = errors + 1; end
{%- for x in ld.layers %}
        $readmemh("{{ x.file }}", lmem_{{ loop.index0 }}, 0, {{ x.words - 1 }});
        for (lw = 0; lw < {{ x.words }}; lw = lw + 1)
            for (lb = 0; lb < {{ x.bytes }}; lb = lb + 1)
                send_byte(lmem_{{ loop.index0 }}[lw][lb*8 +: 8]);
{%- endfor %}
        repeat (4 * CPB) @(posedge clk);
{%- endif %}
        if (led_loaded_n !== 1'b0) begin $display("UART FAIL weights not loaded"); errors = errors + 1; end
        for (s = 0; s < n; s = s + 1) begin
            p = 0;
            for (g = 0; g < {{ h.beats }}; g = g + 1) begin
                rc = $fscanf(fd_stim, "%h", word);
                for (l = 0; l < {{ e.lanes }}; l = l + 1) begin
                    if (p < {{ h.inputs }}) send_byte(word[l*8 +: 8]);
                    p = p + 1;
                end
            end
            recv_byte;
            for (k = 0; k <= {{ h.outputs }}; k = k + 1) rc = $fscanf(fd_exp, "%h", want);
            $display("UART R %0d %0d", s, got);
            if (got !== want[7:0]) begin
                $display("UART MISMATCH sample %0d: expected class %0d, got %0d", s, want, got);
                errors = errors + 1;
            end
            repeat (2 * CPB) @(posedge clk);
        end
        if (errors == 0) $display("UART PASS %0d", n);
        else $display("UART FAIL %0d", errors);
        $finish;
    end
endmodule
`default_nettype wire
