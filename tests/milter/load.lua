-- load.lua - one of many concurrent clients (t_milter.sh starts 20 at once
-- with -D worker=1..20): 5 connections of 10 new recipients each, every
-- one refused (451) by its own verdict, none let through by a deadline or
-- a full queue.  Sender load<worker letter><connection letter>@ (letters:
-- digit runs fold into '#' in the triplet key, which made every worker's
-- sender one triplet, passed once the run crossed a second): the workers'
-- triplets differ (their clients, 203.0.113.WORKER, share one /24).
dofile(libdir .. "/lib.lua")

T.run(function()
	local bad = 0
	for m = 1, 5 do
		local conn = T.session("mx.load.test", "203.0.113." .. worker, "mx.load.test",
				       "<load" .. string.char(96 + worker, 96 + m) .. "@sender.test>")
		for r = 1, 10 do
			if T.rcpt(conn, "<r" .. r .. "@example.test>") ~= SMFIR_REPLYCODE then
				bad = bad + 1
			end
		end
		mt.disconnect(conn)
	end
	T.check(bad == 0, "client " .. worker .. ": 50 new triplets on 5 connections, 50 refusals",
		bad .. " other answers")
end)
