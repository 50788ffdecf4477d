# Vivado non-project flow for {{ top }}. Usage: vivado -mode batch -source vivado.tcl
# Set PART to your device first, e.g. set PART xc7a35tcpg236-1
if {![info exists PART]} { set PART xc7a35tcpg236-1 }
{%- for f in files %}
read_verilog {{ f }}
{%- endfor %}
{%- for m in mems %}
add_files {{ m }}
{%- endfor %}
synth_design -top {{ top }} -part $PART
report_utilization -file utilization.rpt
create_clock -period 10.000 -name clk [get_ports clk]
report_timing_summary -file timing.rpt
