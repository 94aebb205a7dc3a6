#!/bin/sh
sleep 40
echo "announce route 10.9.0.0/24 next-hop 10.0.0.9 path-information 0.0.0.1"
sleep 1
echo "withdraw route 10.8.0.0/24 next-hop 10.0.0.9 path-information 0.0.0.1"
sleep 1
echo "withdraw route 10.9.0.0/24 next-hop 10.0.0.9 path-information 0.0.0.1"
sleep 1
echo "withdraw route 10.1.0.0/24 rd 65000:1 label 100 next-hop 10.0.0.1"
sleep 1000
