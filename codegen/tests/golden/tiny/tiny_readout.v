`default_nettype none
// tiny_readout: counts the 2 output neurons' spikes over the 4 timesteps of an
// image, then sends 3 AXI4-Stream beats: the counts of neurons 0..1, then the class
// (argmax of the counts, ties to the lowest index) with m_last.
module tiny_readout (
    input  wire clk,
    input  wire rst,
    input  wire in_valid,
    output wire in_ready,
    input  wire [1:0] in_spikes,
    input  wire in_first,
    input  wire in_last,
    output wire [7:0] m_data,
    output wire m_valid,
    input  wire m_ready,
    output wire m_last
);
    reg emit_q;
    reg [1:0] e_q;                 // beat being sent
    reg [0:0] best_q;
    reg [2:0] bestc_q;
    reg [5:0] counts_q;

    assign in_ready = !emit_q;
    assign m_valid = emit_q;
    assign m_last = (e_q == 2'd2);
    wire [2:0] cur = counts_q[e_q*3 +: 3];
    wire [7:0] cur_w = { 5'd0, cur };
    wire [7:0] best_w = { 7'd0, best_q };
    assign m_data = m_last ? best_w : cur_w;

    integer k;
    always @(posedge clk) begin
        if (rst) begin
            emit_q <= 1'b0;
            e_q <= 2'd0;
            best_q <= 1'd0;
            bestc_q <= 3'd0;
            counts_q <= 6'd0;
        end else if (!emit_q) begin
            if (in_valid) begin
                for (k = 0; k < 2; k = k + 1)
                    counts_q[k*3 +: 3] <= (in_first ? 3'd0 : counts_q[k*3 +: 3])
                        + { 2'd0, in_spikes[k] };
                if (in_last) begin
                    emit_q <= 1'b1;
                    e_q <= 2'd0;
                    best_q <= 1'd0;
                    bestc_q <= 3'd0;
                end
            end
        end else if (m_ready) begin
            if (m_last) begin
                emit_q <= 1'b0;
            end else begin
                // Strictly greater: ties keep the lowest index.
                if (cur > bestc_q) begin
                    best_q <= e_q[0:0];
                    bestc_q <= cur;
                end
                e_q <= e_q + 2'd1;
            end
        end
    end
endmodule
`default_nettype wire
