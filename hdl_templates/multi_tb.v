`default_nettype none
// multi_tb: runs the testbenches {% for p in prefixes %}{{ p }}_tb{% if !loop.last %}, {% endif %}{% endfor %} in one simulation
// (one simulator build for many small designs); ends when every one is done. Run with +multi.
module multi_tb;
{%- for p in prefixes %}
    {{ p }}_tb u_{{ p }} ();
{%- endfor %}
    always @(posedge u_{{ prefixes[0] }}.clk) begin
        if ({% for p in prefixes %}u_{{ p }}.done{% if !loop.last %} && {% endif %}{% endfor %}) $finish;
    end
endmodule
`default_nettype wire
