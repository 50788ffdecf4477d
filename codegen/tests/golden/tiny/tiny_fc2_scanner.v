`default_nettype none
// tiny_fc2_scanner: streams the addresses of the set bits of a 3-bit spike bitmap in
// increasing order, 4 bits (one chunk) at a time. A chunk with k set bits takes k accepted
// addresses; an empty chunk takes one cycle. The bitmap is latched on `start`, so the producer
// may overwrite its copy at once (this register is the consumer half of the double buffer).
module tiny_fc2_scanner (
    input  wire clk,
    input  wire rst,
    input  wire start,
    input  wire [2:0] bits,
    output wire addr_valid,
    input  wire addr_ready,
    output wire [2:0] addr,
    output wire busy
);
    reg busy_q;
    reg [3:0] cur_q;          // remaining set bits of the current chunk
    reg [0:0] ci_q;         // current chunk index
    wire [3:0] padded = { 1'd0, bits };

    // Index of the lowest set bit of cur_q: isolate it (cur & ~(cur - 1), sharing the decrement
    // that clears it) and OR-encode the one-hot word, a shallow tree instead of a 4-deep
    // priority chain.
    wire [3:0] dec = cur_q - 4'd1;
    wire [3:0] lowbit = cur_q & ~dec;
    wire [1:0] low;
    genvar gi, gb;
    generate
        for (gi = 0; gi < 2; gi = gi + 1) begin : g_low
            wire [3:0] sel;
            for (gb = 0; gb < 4; gb = gb + 1) begin : g_bit
                assign sel[gb] = ((gb >> gi) % 2 == 1) ? lowbit[gb] : 1'b0;
            end
            assign low[gi] = |sel;
        end
    endgenerate

    wire has = |cur_q;
    wire [3:0] cur_rest = cur_q & dec;
    wire last_chunk = (ci_q == 1'd0);
    wire advance = busy_q && (!has || (addr_ready && cur_rest == 4'd0));

    assign addr_valid = busy_q && has;
    assign addr = {ci_q, low};
    assign busy = busy_q;

    always @(posedge clk) begin
        if (rst) begin
            busy_q <= 1'b0;
            cur_q <= 4'd0;
            ci_q <= 1'd0;
        end else if (start) begin
            busy_q <= 1'b1;
            cur_q <= padded[3:0];
            ci_q <= 1'd0;
        end else if (busy_q) begin
            if (has && addr_ready && cur_rest != 4'd0) begin
                cur_q <= cur_rest;
            end else if (advance) begin
                if (last_chunk) begin
                    busy_q <= 1'b0;
                    cur_q <= 4'd0;
                end else begin
                end
            end
        end
    end
endmodule
`default_nettype wire
