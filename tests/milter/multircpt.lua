-- multircpt.lua - two recipients of one message, both delayed, then both
-- passed on the retry: one X-Greylist header for the message, not two.
-- An aborted message's header does not leak into the next message.
dofile(libdir .. "/lib.lua")

T.run(function()
	local conn = T.session("mx2.sender.test", "198.51.100.7", "mx2.sender.test", "<carol@sender.test>")
	local r1 = T.rcpt(conn, "<one@example.test>")
	local r2 = T.rcpt(conn, "<two@example.test>")
	T.check(r1 == SMFIR_REPLYCODE and r2 == SMFIR_REPLYCODE, "both recipients of a new message are refused",
		T.reply_name(r1) .. ", " .. T.reply_name(r2))
	mt.disconnect(conn)

	T.wait_delay()
	conn = T.session("mx2.sender.test", "198.51.100.7", "mx2.sender.test", "<carol@sender.test>")
	r1 = T.rcpt(conn, "<one@example.test>")
	r2 = T.rcpt(conn, "<two@example.test>")
	T.check(r1 == SMFIR_CONTINUE and r2 == SMFIR_CONTINUE, "both recipients pass on the retry",
		T.reply_name(r1) .. ", " .. T.reply_name(r2))
	T.step("eom", mt.eom(conn))
	T.expect(conn, SMFIR_CONTINUE, "end of message continues")
	T.check(T.count_inserted(conn, "X-Greylist") == 1, "one X-Greylist header for two delayed recipients",
		T.count_inserted(conn, "X-Greylist") .. " headers")

	-- A passed recipient, then RSET (abort), then a message of a known
	-- triplet: the aborted message's header must not be carried over.
	T.step("mailfrom", mt.mailfrom(conn, "<dave@sender.test>"))
	T.step("rcptto", mt.rcptto(conn, "<one@example.test>"))
	T.step("abort", mt.abort(conn))
	T.step("mailfrom", mt.mailfrom(conn, "<carol@sender.test>"))
	r1 = T.rcpt(conn, "<one@example.test>")
	T.check(r1 == SMFIR_CONTINUE, "a known triplet continues in the next message", T.reply_name(r1))
	T.step("eom", mt.eom(conn))
	T.check(T.count_inserted(conn, "X-Greylist") == 0,
		"an already passed triplet adds no X-Greylist, nothing left over from the aborted message",
		T.count_inserted(conn, "X-Greylist") .. " headers")
	mt.disconnect(conn)
end)
