`default_nettype none
// {{ h.p }}_uart: board wrapper of {{ h.top }} behind a UART (8N1, CLKS_PER_BIT clock cycles per bit;
// the default {{ u.clks_per_bit }} is {{ u.baud }} baud at {{ u.clock_mhz }} MHz). Pins for the iCEBreaker: icebreaker.pcf.
// Protocol, after power-up or a press of the reset button:
{%- if let Some(ld) = ld %}
//   1. send the {{ ld.total_bytes }} weight bytes once (the concatenated <model>_<layer>_weights.hex words of the
//      loaded layers, least significant byte first; `snn-fpga` writes them to weights.bin); the green
//      LED lights when they are in;
//   2. per image send {{ h.inputs }} pixel bytes (row-major, 0..255); the wrapper answers one byte, the class.
{%- else %}
//   per image send {{ h.inputs }} pixel bytes (row-major, 0..255); the wrapper answers one byte, the class
//   (the green LED is on from the start: the weights are in the bitstream).
{%- endif %}
// Wait for the answer before sending the next image (there is a one-beat buffer, no FIFO). The
// red LED is on while an image is being received or classified.
module {{ h.p }}_uart #(
    parameter integer CLKS_PER_BIT = {{ u.clks_per_bit }}
) (
    input  wire clk,
    input  wire rst_n,
    input  wire uart_rx,
    output wire uart_tx,
    output wire led_loaded_n,
    output wire led_busy_n
);
    // ---- reset: power-on counter and the button (synchronised) ----
    reg [3:0] por_q = 4'd0;
    reg [1:0] btn_q = 2'b00;
    always @(posedge clk) begin
        btn_q <= {btn_q[0], rst_n};
        if (!por_q[3]) por_q <= por_q + 4'd1;
    end
    wire rst = !por_q[3] || !btn_q[1];

    // ---- receiver: start bit, 8 data bits sampled mid-bit, stop bit must be 1 ----
    reg [1:0] rx_sync_q = 2'b11;
    always @(posedge clk) rx_sync_q <= {rx_sync_q[0], uart_rx};
    wire rx = rx_sync_q[1];
    reg rx_busy_q;
    reg [{{ u.cw - 1 }}:0] rx_cnt_q;
    reg [3:0] rx_bit_q;
    reg [7:0] rx_shift_q;
    reg rx_valid_q;
    reg [7:0] rx_data_q;
    always @(posedge clk) begin
        if (rst) begin
            rx_busy_q <= 1'b0;
            rx_cnt_q <= {{ u.cw }}'d0;
            rx_bit_q <= 4'd0;
            rx_shift_q <= 8'd0;
            rx_valid_q <= 1'b0;
            rx_data_q <= 8'd0;
        end else begin
            rx_valid_q <= 1'b0;
            if (!rx_busy_q) begin
                if (!rx) begin
                    rx_busy_q <= 1'b1;
                    rx_cnt_q <= CLKS_PER_BIT[{{ u.cw - 1 }}:0] + CLKS_PER_BIT[{{ u.cw }}:1] - {{ u.cw }}'d1;
                    rx_bit_q <= 4'd0;
                end
            end else if (rx_cnt_q != {{ u.cw }}'d0) begin
                rx_cnt_q <= rx_cnt_q - {{ u.cw }}'d1;
            end else if (rx_bit_q == 4'd8) begin
                rx_busy_q <= 1'b0;
                if (rx) begin
                    rx_valid_q <= 1'b1;
                    rx_data_q <= rx_shift_q;
                end
            end else begin
                rx_shift_q <= {rx, rx_shift_q[7:1]};
                rx_bit_q <= rx_bit_q + 4'd1;
                rx_cnt_q <= CLKS_PER_BIT[{{ u.cw - 1 }}:0] - {{ u.cw }}'d1;
            end
        end
    end

    // ---- transmitter ----
    reg tx_busy_q;
    reg [9:0] tx_shift_q;
    reg [3:0] tx_bit_q;
    reg [{{ u.cw - 1 }}:0] tx_cnt_q;
    wire tx_start;
    wire [7:0] tx_byte;
    assign uart_tx = tx_busy_q ? tx_shift_q[0] : 1'b1;
    always @(posedge clk) begin
        if (rst) begin
            tx_busy_q <= 1'b0;
            tx_shift_q <= 10'h3ff;
            tx_bit_q <= 4'd0;
            tx_cnt_q <= {{ u.cw }}'d0;
        end else if (!tx_busy_q) begin
            if (tx_start) begin
                tx_busy_q <= 1'b1;
                tx_shift_q <= {1'b1, tx_byte, 1'b0};
                tx_bit_q <= 4'd0;
                tx_cnt_q <= CLKS_PER_BIT[{{ u.cw - 1 }}:0] - {{ u.cw }}'d1;
            end
        end else if (tx_cnt_q != {{ u.cw }}'d0) begin
            tx_cnt_q <= tx_cnt_q - {{ u.cw }}'d1;
        end else if (tx_bit_q == 4'd9) begin
            tx_busy_q <= 1'b0;
        end else begin
            tx_shift_q <= {1'b1, tx_shift_q[9:1]};
            tx_bit_q <= tx_bit_q + 4'd1;
            tx_cnt_q <= CLKS_PER_BIT[{{ u.cw - 1 }}:0] - {{ u.cw }}'d1;
        end
    end

    // ---- the network ----
    wire loaded;
    wire s_ready;
    wire [{{ r.ow - 1 }}:0] m_data;
    wire m_valid;
    wire m_last;
    reg [{{ h.sw - 1 }}:0] beat_q;
    reg beat_valid_q;
    assign tx_start = m_valid && m_last;
    assign tx_byte = m_data[7:0];
{%- if r.ow > 8 %}
    wire unused_m = &{1'b0, m_data[{{ r.ow - 1 }}:8]};
{%- endif %}
{%- if ld.is_some() %}
    wire ld_ready;
    wire unused_ld = ld_ready;
{%- endif %}
    {{ h.top }} u_net (
        .clk(clk), .rst(rst),
{%- if ld.is_some() %}
        .s_load_tdata(rx_data_q), .s_load_tvalid(rx_valid_q && !loaded), .s_load_tready(ld_ready), .loaded(loaded),
{%- endif %}
        .s_axis_tdata(beat_q), .s_axis_tvalid(beat_valid_q), .s_axis_tready(s_ready),
        .m_axis_tdata(m_data), .m_axis_tvalid(m_valid), .m_axis_tready(!(m_last && tx_busy_q)),
        .m_axis_tlast(m_last)
    );
{%- if ld.is_none() %}
    assign loaded = 1'b1;
{%- endif %}

    // ---- pixels -> beats of {{ e.lanes }} pixels; the last beat of an image is zero padded ----
    reg [{{ u.lw - 1 }}:0] lane_q;
    reg [{{ u.pw - 1 }}:0] pix_q;
    reg busy_q;
    wire pixel = rx_valid_q && loaded && !beat_valid_q;
    integer b;
    always @(posedge clk) begin
        if (rst) begin
            beat_q <= {{ h.sw }}'d0;
            beat_valid_q <= 1'b0;
            lane_q <= {{ u.lw }}'d0;
            pix_q <= {{ u.pw }}'d0;
            busy_q <= 1'b0;
        end else begin
            if (beat_valid_q && s_ready) begin
                beat_valid_q <= 1'b0;
                beat_q <= {{ h.sw }}'d0;
            end
            if (pixel) begin
                busy_q <= 1'b1;
                for (b = 0; b < {{ e.lanes }}; b = b + 1)
                    if (lane_q == b[{{ u.lw - 1 }}:0]) beat_q[b*8 +: 8] <= rx_data_q;
                if (lane_q == {{ u.lw }}'d{{ e.lanes - 1 }} || pix_q == {{ u.pw }}'d{{ h.inputs - 1 }}) begin
                    beat_valid_q <= 1'b1;
                    lane_q <= {{ u.lw }}'d0;
                end else begin
                    lane_q <= lane_q + {{ u.lw }}'d1;
                end
                pix_q <= (pix_q == {{ u.pw }}'d{{ h.inputs - 1 }}) ? {{ u.pw }}'d0 : pix_q + {{ u.pw }}'d1;
            end
            if (tx_start && !tx_busy_q) busy_q <= 1'b0;
        end
    end
    assign led_loaded_n = !loaded;
    assign led_busy_n = !busy_q;
endmodule
`default_nettype wire
