# gnuplot script for cache_bench.sh's output (saved to FILE):
#   gnuplot -e "data='FILE'; out='docs/img/cache_bench.png'" cache_bench.gp
# Lines: MiB the tier holds for the process after each phase, per
# allocator (file MiB; in daemon mode also the daemon's charge), with the
# live MiB the program asked for.
if (!exists("data")) data = 'cache_bench.out'
if (!exists("out")) out = 'cache_bench.png'
set terminal pngcairo size 900,520 noenhanced font ",10"
set output out
set title "cache_bench: memory held per phase (MiB, lower is better)"
set ylabel "MiB"
set grid ytics
set xtics rotate by -30
set key at graph 0.98, graph 0.80 right
set style data linespoints
# Sections start with "== name"; rows are "allocator phase ops ns live file granted physical".
sec(n) = sprintf("< awk '/^== /{s++} s == %d && NF == 9 && $2 != \"phase\" {print NR, $2, $5, $6, $7}' %s", n, data)
plot sec(1) using 0:4:xtic(2) title "memkind 1.14: file", \
     sec(2) using 0:4 title "pmemtier standalone: file", \
     sec(3) using 0:4 title "pmemtier daemon: physical", \
     sec(3) using 0:5 title "pmemtier daemon: charged", \
     sec(1) using 0:3 title "live" dashtype 2 lc rgb "gray"
