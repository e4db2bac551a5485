# gnuplot script for alloc_bench.sh's data file (-o FILE):
#   gnuplot -e "data='FILE'; out='docs/img/alloc_bench.png'" alloc_bench.gp
# Bars: ns per malloc+free pair, free(kind) variant, per allocator, for
# 64 B and 4 KiB with one thread (lower is better).
if (!exists("data")) data = 'alloc_bench.dat'
if (!exists("out")) out = 'alloc_bench.png'
set terminal pngcairo size 900,520 noenhanced font ",10"
set output out
set title "malloc+free pair, one thread (ns, lower is better)"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set boxwidth 0.9
set ylabel "ns per pair"
set grid ytics
set xtics rotate by -20
set key top left
plot "< awk '$2 == \"free(kind)\" && $3 == 64 && $4 == 1' ".data using 5:xtic(1) title "64 B", \
     "< awk '$2 == \"free(kind)\" && $3 == 4096 && $4 == 1' ".data using 5 title "4 KiB"
