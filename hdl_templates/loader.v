`default_nettype none
// {{ h.p }}_loader: writes the run-time weights ({{ ld.total_bytes }} bytes) into the layers' weight memories.
// The stream is, layer after layer ({% for x in ld.layers %}{{ x.name }}: {{ x.words }} words of {{ x.bytes }} byte(s){% if !loop.last %}; {% endif %}{% endfor %}),
// every word in address order, least significant byte first (the word order and bit layout of
// the generated <model>_<layer>_weights.hex files). One byte per cycle at most; `done` rises
// after the last byte and further bytes are refused (s_ready low) until reset.
module {{ h.p }}_loader (
    input  wire clk,
    input  wire rst,
    input  wire [7:0] s_data,
    input  wire s_valid,
    output wire s_ready,
    output wire done,
    output wire we,
    output wire [{{ ld.liw - 1 }}:0] we_layer,
    output wire [{{ ld.aw - 1 }}:0] we_addr,
    output wire [{{ ld.ww - 1 }}:0] we_data
);
    reg done_q;
    reg [{{ ld.liw - 1 }}:0] li_q;
    reg [{{ ld.aw - 1 }}:0] wc_q;
    reg [{{ ld.bw - 1 }}:0] bc_q;
    reg [{{ ld.ww - 1 }}:0] word_q;
    reg we_q;
    reg [{{ ld.liw - 1 }}:0] wli_q;
    reg [{{ ld.aw - 1 }}:0] waddr_q;

    // Last byte of a word and last word of the current layer.
    reg [{{ ld.bw - 1 }}:0] last_byte;
    reg [{{ ld.aw - 1 }}:0] last_word;
    always @* begin
        case (li_q)
{%- for x in ld.layers %}
            {{ ld.liw }}'d{{ loop.index0 }}: begin last_byte = {{ ld.bw }}'d{{ x.bytes - 1 }}; last_word = {{ ld.aw }}'d{{ x.words - 1 }}; end
{%- endfor %}
            default: begin last_byte = {{ ld.bw }}'d0; last_word = {{ ld.aw }}'d0; end
        endcase
    end

    wire take = s_valid && !done_q;
    assign s_ready = !done_q;
    assign done = done_q && !we_q;
    assign we = we_q;
    assign we_layer = wli_q;
    assign we_addr = waddr_q;
    assign we_data = word_q;

    integer b;
    always @(posedge clk) begin
        if (take) begin
            for (b = 0; b < {{ ld.ww / 8 }}; b = b + 1)
                if (bc_q == b[{{ ld.bw - 1 }}:0]) word_q[b*8 +: 8] <= s_data;
        end
    end

    always @(posedge clk) begin
        if (rst) begin
            done_q <= 1'b0;
            li_q <= {{ ld.liw }}'d0;
            wc_q <= {{ ld.aw }}'d0;
            bc_q <= {{ ld.bw }}'d0;
            we_q <= 1'b0;
            wli_q <= {{ ld.liw }}'d0;
            waddr_q <= {{ ld.aw }}'d0;
        end else begin
            we_q <= 1'b0;
            if (take) begin
                if (bc_q == last_byte) begin
                    bc_q <= {{ ld.bw }}'d0;
                    we_q <= 1'b1;
                    wli_q <= li_q;
                    waddr_q <= wc_q;
                    if (wc_q == last_word) begin
                        wc_q <= {{ ld.aw }}'d0;
                        if (li_q == {{ ld.liw }}'d{{ ld.layers.len() - 1 }}) done_q <= 1'b1;
                        else li_q <= li_q + {{ ld.liw }}'d1;
                    end else begin
                        wc_q <= wc_q + {{ ld.aw }}'d1;
                    end
                end else begin
                    bc_q <= bc_q + {{ ld.bw }}'d1;
                end
            end
        end
    end
endmodule
`default_nettype wire
