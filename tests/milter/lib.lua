-- lib.lua - helpers shared by greygate-milter's miltertest scripts
--
-- Every script is run as
--   miltertest -D port=PORT -D delay=SECONDS -D libdir=DIR -s SCRIPT.lua
-- against a running greygate-milter whose milter_socket is
-- inet:PORT@127.0.0.1 and whose greylist_delay is SECONDS, and starts with
--   dofile(libdir .. "/lib.lua")
-- Each check prints one line, "ok DESCRIPTION" or "not ok DESCRIPTION
-- (WHY)", which tests/integ/t_milter.sh turns into PASS/FAIL lines.
-- miltertest exits 1 without a word on a Lua error, so T.run() wraps the
-- script body in pcall and prints the error as a failed check.  Client
-- addresses come from the documentation ranges and are only presented
-- (mt.conninfo always gets an explicit IP: nothing is looked up).

T = { failed = 0 }

local names = {}
for _, n in ipairs({ "SMFIR_CONTINUE", "SMFIR_ACCEPT", "SMFIR_REJECT", "SMFIR_TEMPFAIL",
		     "SMFIR_REPLYCODE", "SMFIR_DISCARD", "SMFIR_ADDHEADER", "SMFIR_INSHEADER" }) do
	if _G[n] ~= nil then names[_G[n]] = n end
end

-- T.reply_name(r) - "SMFIR_CONTINUE" for a reply code, for messages
function T.reply_name(r)
	return names[r] or tostring(r)
end

-- T.check(cond, desc, why) - one check, one line
function T.check(cond, desc, why)
	if cond then
		print("ok " .. desc)
	else
		print("not ok " .. desc .. " (" .. tostring(why or "check failed") .. ")")
		T.failed = T.failed + 1
	end
end

-- T.expect(conn, want, desc) - the last reply is want
function T.expect(conn, want, desc)
	local got = mt.getreply(conn)
	T.check(got == want, desc, "expected " .. T.reply_name(want) .. ", got " .. T.reply_name(got))
	return got == want
end

-- T.step(what, rc) - a protocol step that must not fail
function T.step(what, rc)
	if rc ~= nil then
		error(what .. " failed: " .. tostring(rc))
	end
end

-- T.connect() - a new connection to the milter under test
function T.connect()
	local conn = mt.connect("inet:" .. port .. "@127.0.0.1", 50, 0.1)
	if conn == nil then
		error("cannot connect to the milter at inet:" .. port .. "@127.0.0.1")
	end
	return conn
end

-- T.session(host, ip, helo, from) - connect, conninfo, HELO, MAIL FROM, each CONTINUE
function T.session(host, ip, helo, from)
	local conn = T.connect()
	T.step("conninfo", mt.conninfo(conn, host, ip))
	if mt.getreply(conn) ~= SMFIR_CONTINUE then
		error("conninfo " .. ip .. ": " .. T.reply_name(mt.getreply(conn)))
	end
	T.step("helo", mt.helo(conn, helo))
	T.step("mailfrom", mt.mailfrom(conn, from))
	if mt.getreply(conn) ~= SMFIR_CONTINUE then
		error("mailfrom " .. from .. ": " .. T.reply_name(mt.getreply(conn)))
	end
	return conn
end

-- T.rcpt(conn, rcpt) - RCPT TO; returns the reply
function T.rcpt(conn, rcpt)
	T.step("rcptto " .. rcpt, mt.rcptto(conn, rcpt))
	return mt.getreply(conn)
end

-- T.wait_delay() - sleep past greylist_delay
function T.wait_delay()
	mt.sleep(tonumber(delay) + 0.7)
end

-- T.count_inserted(conn, name) - how many NAME headers the milter added at EOM
function T.count_inserted(conn, name)
	local n = 0
	while mt.getheader(conn, name, n) ~= nil do
		n = n + 1
	end
	return n
end

-- T.run(body) - run a script body; a Lua error is a failed check
function T.run(body)
	local ok, err = pcall(body)
	if not ok then
		print("not ok script error: " .. tostring(err))
		os.exit(1)
	end
	os.exit(T.failed == 0 and 0 or 1)
end
