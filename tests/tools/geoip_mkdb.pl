#!/usr/bin/perl
# geoip_mkdb.pl: write a MaxMind DB in the GeoLite2-City layout for the GeoIP tests,
# with Debian's libmaxmind-db-writer-perl (an implementation independent of the reader).
#   geoip_mkdb.pl [-4] OUT.mmdb < rows
# One row a network: `CIDR ISO_CODE POSTAL_CODE LATITUDE LONGITUDE`, '-' for a field the
# record leaves out; '#' comments. Default: an IPv6 database with the IPv4 space aliased
# (::ffff:0:0/96, 2002::/16), as MaxMind ships; -4: an IPv4-only database.
use strict;
use warnings;
use MaxMind::DB::Writer::Tree;

my $v4 = @ARGV && $ARGV[0] eq '-4' ? shift @ARGV : undef;
my $out = shift @ARGV or die "usage: $0 [-4] OUT.mmdb < rows\n";
my %types = (country => 'map', iso_code => 'utf8_string', postal => 'map', code => 'utf8_string',
    location => 'map', latitude => 'double', longitude => 'double');
my $tree = MaxMind::DB::Writer::Tree->new(
    ip_version => $v4 ? 4 : 6, record_size => 28, database_type => 'GeoLite2-City',
    languages => ['en'], description => { en => 'pmacct-ng test database' },
    map_key_type_callback => sub { $types{ $_[0] } },
    alias_ipv6_to_ipv4 => $v4 ? 0 : 1, remove_reserved_networks => 0);
while (my $line = <STDIN>) {
    next if $line =~ /^\s*(#|$)/;
    my ($net, $cc, $pc, $lat, $lon) = split ' ', $line;
    my %rec;
    $rec{country} = { iso_code => $cc } if defined $cc && $cc ne '-';
    $rec{postal} = { code => $pc } if defined $pc && $pc ne '-';
    $rec{location} = { latitude => $lat + 0, longitude => $lon + 0 }
        if defined $lat && $lat ne '-' && defined $lon && $lon ne '-';
    $tree->insert_network($net, \%rec);
}
open my $fh, '>:raw', "$out.tmp" or die "$out.tmp: $!\n";
$tree->write_tree($fh);
close $fh or die "$out.tmp: $!\n";
rename "$out.tmp", $out or die "$out: $!\n";
